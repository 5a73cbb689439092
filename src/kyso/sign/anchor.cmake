# anchor.cmake: finding text on a page (poppler-cpp): --anchor and the secret marker.
# ICU (icu-uc) normalizes text to NFC before comparing; libicu-dev comes with libxml2-dev.
pkg_check_modules(POPPLER_CPP REQUIRED IMPORTED_TARGET poppler-cpp)
pkg_check_modules(ICU_UC REQUIRED IMPORTED_TARGET icu-uc)
target_sources(kyso_sign PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/anchor.cc)
target_link_libraries(kyso_sign PRIVATE PkgConfig::POPPLER_CPP PkgConfig::ICU_UC)

kyso_test(anchor SRCS anchor_test.cc DEPS kyso_sign)
