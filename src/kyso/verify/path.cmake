# path.cmake: RFC 5280 path validation (path.cc) and the PKITS / x509-limbo conformance runs.
