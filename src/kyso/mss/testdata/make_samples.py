#!/usr/bin/env python3
"""Writes the MSS sample messages of this folder (run it here: python3 make_samples.py)."""
import base64

SIG = base64.b64encode(bytes(range(256))).decode()  # not a signature: the bytes 0..255
MSS = 'http://uri.etsi.org/TS102204/v1.1.2#'
H11 = ('<?xml version="1.0" encoding="UTF-8"?>\n'
       '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
       f'xmlns:mss="{MSS}">\n<soapenv:Body>\n')
T11 = '</soapenv:Body>\n</soapenv:Envelope>\n'
H12 = ('<?xml version="1.0" encoding="UTF-8"?>\n'
       '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">\n<env:Body>\n')
T12 = '</env:Body>\n</env:Envelope>\n'
NO_DECL = H11.split('\n', 1)[1]  # the envelope without its XML declaration


def head(el, trans='h4dhx'):
    return (f'<mss:{el} MajorVersion="1" MinorVersion="1" MSSP_TransID="{trans}">\n'
            '<mss:AP_Info AP_ID="http://kyso.local/ap" AP_TransID="kysoA1" '
            'Instant="2026-03-01T08:00:00Z"/>\n'
            '<mss:MSSP_Info Instant="2026-03-01T08:00:01Z"><mss:MSSP_ID>'
            '<mss:URI>http://mssp.example.vn</mss:URI></mss:MSSP_ID></mss:MSSP_Info>\n'
            '<mss:MobileUser><mss:MSISDN>84912345678</mss:MSISDN></mss:MobileUser>\n')


def status(code, msg):
    return (f'<mss:Status><mss:StatusCode Value="{code}"/>'
            f'<mss:StatusMessage>{msg}</mss:StatusMessage></mss:Status>\n')


def resp(wrapper, el, trans, body):
    return H11 + f'<{wrapper}>\n' + head(el, trans) + body + f'</mss:{el}>\n</{wrapper}>\n' + T11


def sig(text=SIG):
    return f'<mss:MSS_Signature><mss:Base64Signature>{text}</mss:Base64Signature></mss:MSS_Signature>\n'


F = {}
F['sig_resp_synch_signature.xml'] = resp('MSS_SignatureResponse', 'MSS_SignatureResp', 'h4dhx',
                                         sig(f'\n{SIG[:76]}\n{SIG[76:]}\n') + status(500, 'SIGNATURE'))
F['sig_resp_async_request_ok.xml'] = resp('MSS_SignatureResponse', 'MSS_SignatureResp', 'tx42',
                                          status(100, 'REQUEST_OK'))
F['status_resp_outstanding.xml'] = resp('MSS_StatusQueryResponse', 'MSS_StatusResp', 'tx42',
                                        status(504, 'OUTSTANDING_TRANSACTION'))
F['status_resp_valid_signature.xml'] = resp('MSS_StatusQueryResponse', 'MSS_StatusResp', 'tx42',
                                            sig() + status(502, 'VALID_SIGNATURE'))
F['status_resp_user_cancel.xml'] = resp('MSS_StatusQueryResponse', 'MSS_StatusResp', 'tx42',
                                        status(401, 'USER_CANCEL'))
F['fault_soap11_unknown_client.xml'] = H11 + (
    '<soapenv:Fault>\n<faultcode>mss:_105</faultcode>\n<faultstring>UNKNOWN_CLIENT</faultstring>\n'
    '<detail><ns1:detail xmlns:ns1="http://kiuru.methics.fi/mssp">Unknown MSISDN</ns1:detail>'
    '</detail>\n</soapenv:Fault>\n') + T11
F['fault_soap11_reason_only.xml'] = H11 + (
    '<soapenv:Fault>\n<faultcode>soapenv:Server</faultcode>\n<faultstring>PIN_BLOCKED</faultstring>\n'
    '</soapenv:Fault>\n') + T11
F['fault_soap11_detail_status.xml'] = H11 + (
    '<soapenv:Fault>\n<faultcode>soapenv:Server</faultcode>\n<faultstring>Lỗi</faultstring>\n'
    '<detail><mss:Status><mss:StatusCode Value="208"/></mss:Status></detail>\n'
    '</soapenv:Fault>\n') + T11
F['fault_soap12_user_cancel.xml'] = H12 + (
    '<env:Fault>\n<env:Code><env:Value>env:Receiver</env:Value>\n'
    f'<env:Subcode xmlns:mss="{MSS}"><env:Value>mss:_401</env:Value></env:Subcode></env:Code>\n'
    '<env:Reason><env:Text xml:lang="en">USER_CANCEL</env:Text></env:Reason>\n'
    '<env:Detail><ns1:detail xmlns:ns1="http://kiuru.methics.fi/mssp">User cancelled the request'
    '</ns1:detail></env:Detail>\n</env:Fault>\n') + T12
F['sig_resp_document_style_soap12.xml'] = H12 + (
    f'<mss:MSS_SignatureResp xmlns:mss="{MSS}" MajorVersion="1" MinorVersion="1" MSSP_TransID="d1">\n'
    '<mss:AP_Info AP_ID="http://kyso.local/ap" AP_TransID="kysoB2" Instant="2026-03-01T08:00:00Z"/>\n'
    '<mss:MSSP_Info><mss:MSSP_ID/></mss:MSSP_Info>\n'
    '<mss:MobileUser><mss:MSISDN>84912345678</mss:MSISDN></mss:MobileUser>\n'
    + sig() + status(500, 'SIGNATURE') + '</mss:MSS_SignatureResp>\n') + T12
F['sig_req_synch.xml'] = H11 + (
    '<MSS_Signature>\n<mss:MSS_SignatureReq MajorVersion="1" MinorVersion="1" '
    'MessagingMode="synch" TimeOut="120">\n'
    '<mss:AP_Info AP_ID="http://kyso.local/ap" AP_TransID="kysoC3" Instant="2026-03-01T08:00:00Z"/>\n'
    '<mss:MSSP_Info><mss:MSSP_ID/></mss:MSSP_Info>\n'
    '<mss:MobileUser><mss:MSISDN>84912345678</mss:MSISDN></mss:MobileUser>\n'
    '<mss:DataToBeSigned MimeType="application/octet-stream" Encoding="base64">'
    + base64.b64encode(bytes(32)).decode() + '</mss:DataToBeSigned>\n'
    '<mss:DataToBeDisplayed MimeType="text/plain" Encoding="UTF-8">'
    'Ký tờ trình số 12/TTr-UBND &amp; phụ lục</mss:DataToBeDisplayed>\n'
    f'<mss:MSS_Format><mss:mssURI>{MSS}PKCS1</mss:mssURI></mss:MSS_Format>\n'
    '</mss:MSS_SignatureReq>\n</MSS_Signature>\n') + T11
F['status_req.xml'] = H11 + (
    '<MSS_StatusQuery>\n<mss:MSS_StatusReq MajorVersion="1" MinorVersion="1" MSSP_TransID="tx42">\n'
    '<mss:AP_Info AP_ID="http://kyso.local/ap" AP_TransID="kysoD4" Instant="2026-03-01T08:00:00Z"/>\n'
    '<mss:MSSP_Info><mss:MSSP_ID/></mss:MSSP_Info>\n</mss:MSS_StatusReq>\n</MSS_StatusQuery>\n') + T11

# Hostile input: each must be refused, fast, without reading a file or the network.
FAULT = '<soapenv:Fault><faultcode>mss:_105</faultcode><faultstring>{}</faultstring></soapenv:Fault>\n'
F['hostile_xxe_external_entity.xml'] = (
    '<?xml version="1.0"?>\n<!DOCTYPE e [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    + NO_DECL + FAULT.format('&xxe;') + T11)
F['hostile_xxe_parameter_entity.xml'] = (
    '<?xml version="1.0"?>\n<!DOCTYPE e [ <!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p; ]>\n'
    + NO_DECL + FAULT.format('') + T11)
lol = '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
prev = 'lol'
for i in range(1, 10):
    lol += f'<!ENTITY lol{i} "' + f'&{prev};' * 10 + '">\n'
    prev = f'lol{i}'
F['hostile_billion_laughs.xml'] = lol + ']>\n' + NO_DECL + FAULT.format(f'&{prev};') + T11
F['hostile_doctype_external_dtd.xml'] = (
    '<?xml version="1.0"?>\n<!DOCTYPE Envelope SYSTEM "http://127.0.0.1:1/soap.dtd">\n'
    + NO_DECL + FAULT.format('') + T11)
F['hostile_undeclared_entity.xml'] = H11 + FAULT.format('&undeclared;') + T11

F['bad_not_soap.xml'] = '<?xml version="1.0"?>\n<html><body>502 Bad Gateway</body></html>\n'
F['bad_truncated.xml'] = F['sig_resp_synch_signature.xml'][:300]
F['bad_signature_base64.xml'] = F['sig_resp_synch_signature.xml'].replace(SIG[:76], '!!notbase64!!')
F['bad_wrong_namespace.xml'] = F['sig_resp_synch_signature.xml'].replace(MSS, MSS.replace('1.1.2', '9.9.9'))

for name, text in F.items():
    with open(name, 'w', encoding='utf-8') as f:
        f.write(text)
