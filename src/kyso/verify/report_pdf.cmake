# report_pdf.cmake: the R6.3 report as PDF (report_pdf.cc). It draws with the HarfBuzz font code
# of sign/ (Font: shaping, subsetting; PdfFont in pdf_text.h: glyph runs, the embedded font), and
# kyso_verify must not depend on kyso_sign (sign/ uses verify/), so it is a module of its own
# that the CLI links. qpdf writes the file.
kyso_module(report_pdf
  SRCS ${CMAKE_CURRENT_SOURCE_DIR}/report_pdf.cc
  DEPS kyso_verify kyso_sign kyso_base PkgConfig::QPDF)
# qpdf 11 warns unless told which PointerHolder API we use: none (4 = std::shared_ptr only).
target_compile_definitions(kyso_report_pdf PRIVATE POINTERHOLDER_TRANSITION=4)
# The test reads the PDF back with qpdf and poppler-utils (pdftotext, pdfinfo) when installed.
kyso_test(report_pdf SRCS ${CMAKE_CURRENT_SOURCE_DIR}/report_pdf_test.cc DEPS kyso_report_pdf)
