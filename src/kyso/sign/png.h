#pragma once

#include <cstddef>

#include "kyso/base/bytes.h"
#include "kyso/base/status.h"

namespace kyso::sign {

// kMaxPngLen bounds the PNG file DecodePng reads: a scanned signature or seal is well below.
inline constexpr std::size_t kMaxPngLen = 8 * 1024 * 1024;
// kMaxPngPixels bounds width × height, checked from the header before any pixel is allocated
// (a 100-byte PNG may claim 2^31 × 2^31 pixels).
inline constexpr std::size_t kMaxPngPixels = 4096 * 4096;

// RasterImage is an 8-bit RGB image with optional alpha, rows top to bottom.
struct RasterImage {
  int width = 0;
  int height = 0;
  Bytes rgb;    // width * height * 3 bytes
  Bytes alpha;  // width * height bytes; empty when the image is fully opaque
  // dpi_x/dpi_y come from the pHYs chunk when its unit is the metre; 0 when unknown.
  double dpi_x = 0;
  double dpi_y = 0;
};

// DecodePng decodes any PNG (every colour type and bit depth, palette with tRNS, interlaced)
// to 8-bit RGB plus alpha. Samples are taken as stored: no gamma or colour-profile
// correction, as PDF viewers show DeviceRGB. 16-bit samples are scaled to 8 bits.
// Errors are kInvalidArgument with a message in Vietnamese for the person who gave the image.
Result<RasterImage> DecodePng(ByteSpan png);

// EncodePng writes `image` as an 8-bit RGBA PNG (RGB when `alpha` is empty), with a pHYs chunk
// when both dpi_x and dpi_y are set. For tests and fixtures.
Result<Bytes> EncodePng(const RasterImage& image);

}  // namespace kyso::sign
