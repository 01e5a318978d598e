#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_cloud_json (tests/fuzz/corpus/cloud_json/): the JSON
shapes of the account gateway's answers (PROTOCOL.md §2, tests/unit/test_cloud_json.c),
each prefixed with the selector byte of the parser it is meant for."""
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "corpus", "cloud_json")
os.makedirs(out, exist_ok=True)

DEVICES = (
    '{"code":0,"data":['
    '{"sn":"AP3002616113487436","model":"AP300","subSn":"2616113487436",'
    '"name":"Garage","boardSn":"x","factoryProtocolVer":"2015",'
    '"sessionState":"Online","netStatus":1,"packNum":2,"batSOC":87,'
    '"lastAlive":{"batterySoc":87}},'
    '{"sn":"EL100V22434000112345","model":"EL100V2","name":"Van",'
    '"sessionState":"Offline","iotSrvIp":"broker.example:18999"},'
    '{"sn":"X1","model":"X","subSn":"1","iotSrvIp":"only-host.example",'
    '"factoryProtocolVer":2001}'
    ']}')

seeds = {
    # selector 0: login (opt bits pick the token buffer: 0x20 = 2048 bytes)
    "login_ok": (0x20, '{"code":0,"message":"OK","data":{"token":"aaa.bbb.ccc","refresh":"r","ttl":3600}}'),
    "login_msgcode": (0x20, '{"msgCode":"0","data":{"token":"x.y"}}'),
    "login_ttl_str": (0x20, '{"code":0,"data":{"token":"x.y","ttl":"60"}}'),
    "login_wrong_pw": (0x20, '{"code":20003015,"message":"password incorrect"}'),
    "login_no_account": (0x20, '{"msgCode":20003006,"message":"Account does not exist"}'),
    "login_ctl": (0x20, '{"code":42,"message":"a\\u001b[31mb\\n"}'),
    "login_small_buf": (0x08, '{"code":0,"data":{"token":"aaaa.bbbb"}}'),
    "login_notobj": (0x20, '[1,2,3]'),
    # 1: user id
    "uid_str": (0x01 | 0x98, '{"code":0,"data":{"uid":"1234567"}}'),
    "uid_num": (0x01 | 0x98, '{"code":0,"data":{"uid":987}}'),
    "uid_expired": (0x01 | 0x98, '{"code":805,"message":"token expired"}'),
    # 2: devices (opt: cap = opt % 4, broker = (opt >> 2) & 3)
    "devices_3": (0x02 | (3 << 3), DEVICES),
    "devices_cap1": (0x02 | (1 << 3) | (1 << 5), DEVICES),
    "devices_page": (0x02 | (2 << 3), '{"code":0,"data":{"deviceList":[{"sn":"AB1","model":"AB","iotSrvIp":"[::1]:1883"}]}}'),
    "devices_bad": (0x02 | (3 << 3), '{"code":0,"data":[{"sn":[],"model":"X"}]}'),
    # 3: server time
    "time_str": (0x03, '{"code":0,"message":"OK","data":"1777630585000"}'),
    "time_num": (0x03, '{"code":0,"data":1710000000123}'),
    "time_secs": (0x03, '{"code":0,"data":1710000000}'),
    "time_big": (0x03, '{"code":0,"data":1e300}'),
    # 4: status (PFX error bodies)
    "status_805": (0x04, '{"code":0,"msgCode":805}'),
    "status_str": (0x04, '{"code":"805"}'),
    "status_busy": (0x04, '{"code":500,"message":"busy"}'),
    # 5: host[:port]
    "host_port": (0x05, "broker.example:18999"),
    "host_v6": (0x05, "[::1]:8883"),
    "host_ssl": (0x05, "ssl://iot.bluettipower.com:18760"),
    # 6: token parts
    "token3": (0x06 | (16 << 3), "aaa.bbb.ccc"),
    "token_short": (0x06 | (3 << 3), "abcdef.ghijkl"),
    # 7: X-Signature hex (AES-256-ECB, one block of padding)
    "xsig": (0x07 | (20 << 3), "00112233445566778899aabbccddeeff"),
    "xsig_sep": (0x07 | (20 << 3), "0x00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"),
}
for name, (sel, body) in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([sel]) + body.encode())
