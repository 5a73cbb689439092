# pdf_sigs.cmake: PDF signature extraction and validation (pdf_sigs.cc).
# qpdf only reads the PDF; kyso_verify must not depend on kyso_sign (the test may, to sign).
pkg_check_modules(QPDF REQUIRED IMPORTED_TARGET libqpdf)
target_sources(kyso_verify PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/pdf_sigs.cc)
target_link_libraries(kyso_verify PRIVATE PkgConfig::QPDF)
# qpdf 11 warns unless told which PointerHolder API we use: none (4 = std::shared_ptr only).
target_compile_definitions(kyso_verify PRIVATE POINTERHOLDER_TRANSITION=4)
kyso_test(pdf_sigs SRCS pdf_sigs_test.cc DEPS kyso_verify kyso_sign PkgConfig::QPDF)
