# path.cmake: RFC 5280 path validation (path.cc) and the PKITS / x509-limbo conformance runs.
target_sources(kyso_verify PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/path.cc)
kyso_test(verify_path SRCS path_test.cc DEPS kyso_verify kyso_pkix)
kyso_test(verify_pkits SRCS pkits_test.cc DEPS kyso_verify kyso_pkix nlohmann_json::nlohmann_json
  LABELS conformance)
