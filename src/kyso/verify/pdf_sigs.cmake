# pdf_sigs.cmake: PDF signature extraction and validation (pdf_sigs.cc).
