# xades_sigs.cmake: XML signature (XAdES, XML-DSig) verification (xades_sigs.cc).
