#include "kyso/sign/visible.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "kyso/sign/anchor.h"

namespace kyso::sign {
namespace {

// Frame maps between a page's default user space (where /Rect lives) and the page as it is
// displayed after /Rotate (where "above the name" and "top right" mean what a reader sees):
// display coordinates are points from the displayed page's bottom left.
struct Frame {
  PdfRect crop;
  int rotate = 0;  // 0, 90, 180 or 270, clockwise as displayed

  double width() const { return rotate % 180 == 0 ? crop.w : crop.h; }
  double height() const { return rotate % 180 == 0 ? crop.h : crop.w; }

  PdfRect ToUser(const PdfRect& d) const {
    const PdfRect& c = crop;
    switch (rotate) {
      case 90: return {c.x + c.w - d.y - d.h, c.y + d.x, d.h, d.w};
      case 180: return {c.x + c.w - d.x - d.w, c.y + c.h - d.y - d.h, d.w, d.h};
      case 270: return {c.x + d.y, c.y + c.h - d.x - d.w, d.h, d.w};
      default: return {c.x + d.x, c.y + d.y, d.w, d.h};
    }
  }
  PdfRect ToDisplay(const PdfRect& u) const {
    const PdfRect& c = crop;
    switch (rotate) {
      case 90: return {u.y - c.y, c.x + c.w - u.x - u.w, u.h, u.w};
      case 180: return {c.x + c.w - u.x - u.w, c.y + c.h - u.y - u.h, u.w, u.h};
      case 270: return {c.y + c.h - u.y - u.h, u.x - c.x, u.h, u.w};
      default: return {u.x - c.x, u.y - c.y, u.w, u.h};
    }
  }
};

Result<Frame> FrameOf(ByteSpan pdf, int page) {
  KYSO_ASSIGN_OR_RETURN(PageInfo info, ReadPageInfo(pdf, page));
  return Frame{info.crop_box, info.rotate};
}

// BoxAboveAnchor is the person's box (display space) over the last `anchor` found, up to
// `title` when that is found above it on the same page.
Result<std::pair<int, PdfRect>> BoxAboveAnchor(ByteSpan pdf, const PlacementOptions& o) {
  KYSO_ASSIGN_OR_RETURN(std::vector<TextHit> hits, FindText(pdf, o.anchor, o.page));
  if (hits.empty()) {
    return NotFoundError("không tìm thấy dòng chữ \"" + o.anchor + "\" trong tài liệu (--anchor)");
  }
  const TextHit hit = hits.back();
  KYSO_ASSIGN_OR_RETURN(const Frame frame, FrameOf(pdf, hit.page));
  const PdfRect name = frame.ToDisplay(hit.box);
  const double bottom = name.y + name.h + 2;
  double left = name.x, right = name.x + name.w;
  double top = bottom + kPersonBoxHeight;
  if (!o.title.empty()) {
    KYSO_ASSIGN_OR_RETURN(std::vector<TextHit> titles, FindText(pdf, o.title, hit.page));
    // The title line closest above the name, as displayed.
    std::optional<PdfRect> best;
    for (const TextHit& t : titles) {
      const PdfRect d = frame.ToDisplay(t.box);
      if (d.y > bottom && (!best || d.y < best->y)) best = d;
    }
    if (!best) {
      return NotFoundError("không tìm thấy chức vụ \"" + o.title + "\" phía trên \"" + o.anchor + "\" (--title)");
    }
    top = best->y - 2;
    left = std::min(left, best->x);
    right = std::max(right, best->x + best->w);
  }
  const double centre = (left + right) / 2;
  const double width = std::max(kPersonBoxWidth, right - left);
  if (top - bottom < 12) return InvalidArgumentError("không đủ chỗ giữa chức vụ và họ tên để đặt chữ ký");
  return std::make_pair(hit.page, PdfRect{centre - width / 2, bottom, width, top - bottom});
}

// PersonBox finds the person's box (display space) for an agency seal: given, by anchor, or
// the last person signature kyso placed.
Result<std::pair<int, PdfRect>> PersonBox(ByteSpan pdf, const PlacementOptions& o) {
  // R30.2 (Decree 30 Art. 32): the agency signs after the competent person, whoever made that
  // signature; where it is, the person's box, may still be given by hand.
  KYSO_ASSIGN_OR_RETURN(PageInfo any, ReadPageInfo(pdf, o.page == 0 ? 1 : o.page));
  if (!any.document_signed) {
    return FailedPreconditionError("R30.2: cơ quan, tổ chức chỉ ký số sau khi người có thẩm quyền đã ký");
  }
  if (o.rect) return std::make_pair(o.page == 0 ? 1 : o.page, *o.rect);
  if (!o.anchor.empty()) return BoxAboveAnchor(pdf, o);
  // One pass over the document (or the page given) for the last person's signature.
  KYSO_ASSIGN_OR_RETURN(PageInfo where, ReadPageInfo(pdf, o.page));
  for (auto it = where.signatures.rbegin(); it != where.signatures.rend(); ++it) {
    if (it->signed_ && it->label == kPersonSignatureLabel && it->rect.w > 0 && it->rect.h > 0) {
      KYSO_ASSIGN_OR_RETURN(const Frame frame, FrameOf(pdf, it->page));
      return std::make_pair(it->page, frame.ToDisplay(it->rect));
    }
  }
  return NotFoundError(
      "R30.2: chưa có chữ ký của người có thẩm quyền để đóng dấu lên (người có thẩm quyền ký trước, "
      "hoặc chỉ rõ ô chữ ký bằng --rect hay --anchor)");
}

// PlaceInDisplay decides the page, the box in display space and the drawing.
Result<Placement> PlaceInDisplay(ByteSpan pdf, const PlacementOptions& o) {
  Placement p;
  p.page = o.page == 0 ? 1 : o.page;
  switch (o.kind) {
    case AppearanceKind::kNone:
      if (!o.anchor.empty()) {
        KYSO_ASSIGN_OR_RETURN(auto box, BoxAboveAnchor(pdf, o));
        p.page = box.first;
        p.rect = box.second;
      } else {
        p.rect = o.rect;
      }
      return p;
    case AppearanceKind::kPerson: {
      if (o.image == nullptr) return InvalidArgumentError("R30.1: cần ảnh chữ ký (--image PNG)");
      if (o.rect) {
        p.rect = o.rect;
      } else if (!o.anchor.empty()) {
        KYSO_ASSIGN_OR_RETURN(auto box, BoxAboveAnchor(pdf, o));
        p.page = box.first;
        p.rect = box.second;
      } else {
        return InvalidArgumentError("R30.1: cho vị trí chữ ký: --page N --rect x,y,w,h, hoặc --anchor \"họ tên\"");
      }
      KYSO_ASSIGN_OR_RETURN(p.appearance, ImageAppearance(*o.image, p.rect->w, p.rect->h));
      p.field_label = kPersonSignatureLabel;
      return p;
    }
    case AppearanceKind::kAgency: {
      if (o.image == nullptr) return InvalidArgumentError("R30.2: cần ảnh con dấu (--image PNG)");
      KYSO_ASSIGN_OR_RETURN(const auto person, PersonBox(pdf, o));
      KYSO_ASSIGN_OR_RETURN(const auto seal, SealSize(*o.image, o.seal_mm));
      const PdfRect& box = person.second;
      p.page = person.first;
      // Real size, centred vertically on the person's box, right edge at a third of its width.
      p.rect = PdfRect{box.x + box.w / 3 - seal.first, box.y + box.h / 2 - seal.second / 2,
                       seal.first, seal.second};
      KYSO_ASSIGN_OR_RETURN(p.appearance, ImageAppearance(*o.image, seal.first, seal.second));
      p.field_label = kAgencySignatureLabel;
      return p;
    }
    case AppearanceKind::kCopy: {
      if (o.font == nullptr) return InvalidArgumentError("R30.3: no font for the copy stamp");
      if (o.copy_lines.empty()) {
        return InvalidArgumentError(
            "R30.3: cần số, ký hiệu văn bản (--doc-number) hoặc hình thức sao và cơ quan sao (--copy-form, --copy-agency)");
      }
      std::vector<std::string> lines = o.copy_lines;
      lines.push_back(FormatIso8601Vn(o.signing_time));
      KYSO_ASSIGN_OR_RETURN(const auto size, TextSize(lines, *o.font, kCopyFontSize));
      // R30.3: page 1, top right as displayed; a box given explicitly wins.
      p.page = 1;
      if (o.rect) {
        p.rect = o.rect;
      } else {
        KYSO_ASSIGN_OR_RETURN(const Frame frame, FrameOf(pdf, 1));
        const double w = size.first + 1, h = size.second + 1;
        p.rect = PdfRect{frame.width() - kCopyRightMargin - w, frame.height() - kCopyTopMargin - h, w, h};
      }
      KYSO_ASSIGN_OR_RETURN(p.appearance, TextAppearance(lines, *o.font, kCopyFontSize, p.rect->w, p.rect->h));
      return p;
    }
  }
  return InvalidArgumentError("unknown appearance");
}

}  // namespace

std::string FormatIso8601Vn(Time t) {
  // Vietnam has no daylight saving: local time is UTC+7 all year.
  std::string local = FormatIso8601Utc(t + std::chrono::hours(7));
  local.pop_back();  // the 'Z'
  return local + "+07:00";
}

Result<Placement> Place(ByteSpan pdf, const PlacementOptions& o) {
  KYSO_ASSIGN_OR_RETURN(Placement p, PlaceInDisplay(pdf, o));
  if (!p.rect) return p;
  // From the page as displayed to its user space; the drawing turns with the page.
  KYSO_ASSIGN_OR_RETURN(const Frame frame, FrameOf(pdf, p.page));
  p.rect = frame.ToUser(*p.rect);
  p.rotate = frame.rotate;
  return p;
}

}  // namespace kyso::sign
