# signer_info.cmake: one CMS SignerInfo checked as RFC 5652 and EU DSS do (signer_info.cc): the
# signature over the DER (sorted) signed attributes, RSASSA-PSS parameters, the single-valued
# attributes of RFC 5652 11, countersignatures. Shared by cms_sigs.cc and pdf_sigs.cc.
target_sources(kyso_verify PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/signer_info.cc)
kyso_test(signer_info SRCS signer_info_test.cc DEPS kyso_verify kyso_pkix)
