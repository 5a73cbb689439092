# xades_sigs.cmake: XML signature (XAdES, XML-DSig) verification (xades_sigs.cc).
# References are digested by libxmlsec1 (C14N variants, enveloped, XPath, XPath Filter 2.0);
# the signature value, Ids and XAdES properties are checked by kyso over libxml2 and OpenSSL.
find_package(LibXml2 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(XMLSEC REQUIRED IMPORTED_TARGET xmlsec1-openssl)
target_sources(kyso_verify PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/xades_sigs.cc)
target_link_libraries(kyso_verify PRIVATE PkgConfig::XMLSEC LibXml2::LibXml2 kyso_xml)
kyso_test(verify_xades SRCS xades_sigs_test.cc
  DEPS kyso_verify kyso_sign kyso_xml kyso_pkix LibXml2::LibXml2)
