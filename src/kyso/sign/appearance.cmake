# appearance.cmake: PNG decoding, font subsetting, embedded PDF text (pdf_text.cc: shared with
# verify/report_pdf.cc) and the Decree 30 appearance streams.
pkg_check_modules(LIBPNG REQUIRED IMPORTED_TARGET libpng)
pkg_check_modules(HARFBUZZ REQUIRED IMPORTED_TARGET harfbuzz harfbuzz-subset)
find_package(ZLIB REQUIRED)

target_sources(kyso_sign PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/png.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/font.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/pdf_text.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/appearance.cc)
target_link_libraries(kyso_sign PRIVATE PkgConfig::LIBPNG PkgConfig::HARFBUZZ ZLIB::ZLIB)

# The tests make odd PNGs (palette, 16-bit, interlaced) with libpng directly and render PDFs
# with qpdf and poppler-utils when installed.
kyso_test(appearance SRCS appearance_test.cc DEPS kyso_sign PkgConfig::LIBPNG ZLIB::ZLIB)
