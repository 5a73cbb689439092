#include "kyso/sign/png.h"

#include <png.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace kyso::sign {
namespace {

constexpr char kNotPng[] = "ảnh không phải tệp PNG hợp lệ";
constexpr double kMetresPerInch = 0.0254;
// pHYs holds pixels per metre in 32 bits; no scanner comes near this.
constexpr double kMaxEncodeDpi = 1e6;

// libpng reports errors by longjmp to the last setjmp. Everything reachable from the frames it
// jumps over is plain data: ReadState, Header and the callbacks hold no object with a destructor,
// and the functions that call setjmp (ReadHeader, ReadPixels) declare none.
struct ReadState {
  const uint8_t* data;
  std::size_t len;
  std::size_t pos;
  char error[160];
};

struct Header {
  png_uint_32 width;
  png_uint_32 height;
  bool too_large;
  bool has_phys;
  png_uint_32 ppm_x;
  png_uint_32 ppm_y;
  png_size_t rowbytes;
  png_byte channels;
};

void ReadFn(png_structp png, png_bytep out, png_size_t n) {
  auto* st = static_cast<ReadState*>(png_get_io_ptr(png));
  if (n > st->len - st->pos) {
    png_error(png, "file truncated");
  }
  std::memcpy(out, st->data + st->pos, n);
  st->pos += n;
}

void ErrorFn(png_structp png, png_const_charp msg) {
  auto* st = static_cast<ReadState*>(png_get_error_ptr(png));
  std::snprintf(st->error, sizeof st->error, "%s", msg);
  png_longjmp(png, 1);
}

void WarningFn(png_structp, png_const_charp) {}  // ancillary damage only; the image is usable

// ReadHeader reads up to the first IDAT and sets the transforms to 8-bit RGBA. It stops early,
// with too_large set, when the image exceeds kMaxPngPixels so that nothing is allocated for it.
bool ReadHeader(png_structp png, png_infop info, Header* h) {
  if (setjmp(png_jmpbuf(png))) {
    return false;
  }
  // Text, profiles and the like are not used: skipping them bounds what libpng allocates.
  static const png_byte kIgnored[] = "iCCP\0zTXt\0iTXt\0tEXt\0sPLT\0eXIf";
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, kIgnored, 6);
  png_set_chunk_malloc_max(png, 1024 * 1024);
  png_set_chunk_cache_max(png, 128);
  png_read_info(png, info);
  h->width = png_get_image_width(png, info);
  h->height = png_get_image_height(png, info);
  if (h->width == 0 || h->height == 0 ||
      static_cast<unsigned long long>(h->width) * h->height > kMaxPngPixels) {
    h->too_large = true;
    return true;
  }
  int unit = 0;
  if (png_get_pHYs(png, info, &h->ppm_x, &h->ppm_y, &unit) != 0 &&
      unit == PNG_RESOLUTION_METER) {
    h->has_phys = true;
  }
  png_set_expand(png);    // palette -> RGB, grey below 8 bits -> 8, tRNS -> alpha
  png_set_scale_16(png);  // 16 -> 8 bits, rounded
  png_set_gray_to_rgb(png);
  png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);  // only when there is no alpha yet
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  h->rowbytes = png_get_rowbytes(png, info);
  h->channels = png_get_channels(png, info);
  return true;
}

bool ReadPixels(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) {
    return false;
  }
  png_read_image(png, rows);
  png_read_end(png, nullptr);  // checks the CRCs of what follows, up to IEND
  (void)info;
  return true;
}

class ReadStruct final {
 public:
  explicit ReadStruct(ReadState* st) {
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, st, ErrorFn, WarningFn);
    if (png_ != nullptr) {
      info_ = png_create_info_struct(png_);
    }
  }
  ~ReadStruct() { png_destroy_read_struct(&png_, info_ != nullptr ? &info_ : nullptr, nullptr); }
  ReadStruct(const ReadStruct&) = delete;
  ReadStruct& operator=(const ReadStruct&) = delete;

  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

Status NotPng(const ReadState& st) {
  return InvalidArgumentError(std::string(kNotPng) + " (" + st.error + ")");
}

void PutU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

Result<RasterImage> DecodePng(ByteSpan png) {
  if (png.size() > kMaxPngLen) {
    return InvalidArgumentError("tệp ảnh PNG quá lớn: tối đa " +
                                std::to_string(kMaxPngLen / (1024 * 1024)) + " MiB");
  }
  if (png.size() < 8 || png_sig_cmp(png.data(), 0, 8) != 0) {
    return InvalidArgumentError(kNotPng);
  }
  ReadState st{png.data(), png.size(), 0, {}};
  ReadStruct rs(&st);
  if (rs.png() == nullptr || rs.info() == nullptr) {
    return InternalError("libpng: cannot create read structures");
  }
  png_set_read_fn(rs.png(), &st, ReadFn);
  Header h{};
  if (!ReadHeader(rs.png(), rs.info(), &h)) {
    return NotPng(st);
  }
  if (h.too_large) {
    return InvalidArgumentError("ảnh quá lớn (" + std::to_string(h.width) + "×" +
                                std::to_string(h.height) +
                                " điểm ảnh): tối đa 4096×4096 điểm ảnh");
  }
  const std::size_t w = h.width;
  const std::size_t ht = h.height;
  if (h.channels != 4 || h.rowbytes != w * 4) {
    return InternalError("libpng: unexpected row layout after transforms");
  }
  Bytes rgba(w * ht * 4);
  std::vector<png_bytep> rows(ht);
  for (std::size_t y = 0; y < ht; ++y) {
    rows[y] = rgba.data() + y * w * 4;
  }
  if (!ReadPixels(rs.png(), rs.info(), rows.data())) {
    return NotPng(st);
  }

  RasterImage out;
  out.width = static_cast<int>(w);
  out.height = static_cast<int>(ht);
  out.rgb.resize(w * ht * 3);
  out.alpha.resize(w * ht);
  bool opaque = true;
  for (std::size_t i = 0; i < w * ht; ++i) {
    out.rgb[3 * i] = rgba[4 * i];
    out.rgb[3 * i + 1] = rgba[4 * i + 1];
    out.rgb[3 * i + 2] = rgba[4 * i + 2];
    out.alpha[i] = rgba[4 * i + 3];
    opaque = opaque && out.alpha[i] == 0xff;
  }
  if (opaque) {
    out.alpha.clear();
  }
  if (h.has_phys && h.ppm_x > 0 && h.ppm_y > 0) {
    out.dpi_x = h.ppm_x * kMetresPerInch;
    out.dpi_y = h.ppm_y * kMetresPerInch;
  }
  return out;
}

Result<Bytes> EncodePng(const RasterImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) >
          kMaxPngPixels) {
    return InvalidArgumentError("EncodePng: image size out of range");
  }
  const std::size_t n = static_cast<std::size_t>(image.width) * image.height;
  if (image.rgb.size() != n * 3 || (!image.alpha.empty() && image.alpha.size() != n)) {
    return InvalidArgumentError("EncodePng: pixel buffers do not match the size");
  }
  if (!std::isfinite(image.dpi_x) || !std::isfinite(image.dpi_y) || image.dpi_x < 0 ||
      image.dpi_y < 0 || image.dpi_x > kMaxEncodeDpi || image.dpi_y > kMaxEncodeDpi) {
    return InvalidArgumentError("EncodePng: bad DPI");
  }
  const bool has_alpha = !image.alpha.empty();
  const std::size_t channels = has_alpha ? 4 : 3;
  Bytes pixels(n * channels);
  for (std::size_t i = 0; i < n; ++i) {
    std::memcpy(&pixels[i * channels], &image.rgb[i * 3], 3);
    if (has_alpha) {
      pixels[i * 4 + 3] = image.alpha[i];
    }
  }

  png_image pi;
  std::memset(&pi, 0, sizeof pi);
  pi.version = PNG_IMAGE_VERSION;
  pi.width = static_cast<png_uint_32>(image.width);
  pi.height = static_cast<png_uint_32>(image.height);
  pi.format = has_alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (png_image_write_to_memory(&pi, nullptr, &size, 0, pixels.data(), 0, nullptr) == 0) {
    std::string msg = pi.message;
    png_image_free(&pi);
    return InternalError("libpng: " + msg);
  }
  Bytes out(size);
  if (png_image_write_to_memory(&pi, out.data(), &size, 0, pixels.data(), 0, nullptr) == 0) {
    std::string msg = pi.message;
    png_image_free(&pi);
    return InternalError("libpng: " + msg);
  }
  out.resize(size);

  if (image.dpi_x > 0 && image.dpi_y > 0) {
    // The simplified API writes no pHYs; it goes right after IHDR (8-byte signature, then
    // IHDR's 4-byte length, 4-byte type, 13 bytes of data and 4 of CRC).
    constexpr std::size_t kAfterIhdr = 8 + 4 + 4 + 13 + 4;
    uint8_t chunk[4 + 4 + 9 + 4];
    PutU32(chunk, 9);
    std::memcpy(chunk + 4, "pHYs", 4);
    PutU32(chunk + 8, static_cast<uint32_t>(std::lround(image.dpi_x / kMetresPerInch)));
    PutU32(chunk + 12, static_cast<uint32_t>(std::lround(image.dpi_y / kMetresPerInch)));
    chunk[16] = PNG_RESOLUTION_METER;
    PutU32(chunk + 17, static_cast<uint32_t>(crc32(0, chunk + 4, 4 + 9)));
    out.insert(out.begin() + kAfterIhdr, chunk, chunk + sizeof chunk);
  }
  return out;
}

}  // namespace kyso::sign
