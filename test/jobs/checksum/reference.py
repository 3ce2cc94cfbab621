"""Independent checksums for the tests: hashlib and zlib, and CRC-32C and CRC-64/NVME written bit by bit from their
catalogue parameters (reflected, init and xorout all ones), checked against the catalogue's check values. Composite
values are computed as S3 documents them: the checksum of the parts' binary checksums, then '-<parts>'.

Usage: python3 reference.py FILE [PART_SIZE ...]   ->  JSON {algorithm: {"FULL_OBJECT": b64, "COMPOSITE": b64}}
"""
import base64, hashlib, json, sys, zlib

def crc_reflected(data, poly, width, crc=None):
    mask = (1 << width) - 1
    crc = mask if crc is None else crc
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc

def table_of(poly, width):
    # Entry i: the register after shifting byte i through, bit by bit (the same model, 256 times).
    return [crc_reflected([i], poly, width, 0) for i in range(256)]

def crc_table(data, table, width):
    mask = (1 << width) - 1
    crc = mask
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ mask

T32C = table_of(0x82F63B78, 32)
T64 = table_of(0x9A6C9329AC4BC9B5, 64)

def crc32c(data):
    return crc_table(data, T32C, 32).to_bytes(4, 'big')

def crc64nvme(data):
    return crc_table(data, T64, 64).to_bytes(8, 'big')

# The catalogue's check values, by the bitwise model and by the table.
assert (crc_reflected(b'123456789', 0x82F63B78, 32) ^ 0xFFFFFFFF) == 0xE3069283
assert (crc_reflected(b'123456789', 0x9A6C9329AC4BC9B5, 64) ^ 0xFFFFFFFFFFFFFFFF) == 0xAE8B14860A799888
assert crc32c(b'123456789').hex() == 'e3069283'
assert crc64nvme(b'123456789').hex() == 'ae8b14860a799888'

ALGS = {
    'crc32': lambda d: zlib.crc32(d).to_bytes(4, 'big'),
    'crc32c': crc32c,
    'crc64nvme': crc64nvme,
    'md5': lambda d: hashlib.md5(d).digest(),
    'sha1': lambda d: hashlib.sha1(d).digest(),
    'sha256': lambda d: hashlib.sha256(d).digest(),
}

data = open(sys.argv[1], 'rb').read()
parts = [int(p) for p in sys.argv[2:]]
out = {}
for name, f in ALGS.items():
    full = f(data)
    entry = {'FULL_OBJECT': base64.b64encode(full).decode(), 'FULL_HEX': full.hex()}
    if parts and name != 'crc64nvme':
        at, digests = 0, b''
        for size in parts:
            digests += f(data[at:at + size])
            at += size
        assert at == len(data)
        entry['COMPOSITE'] = base64.b64encode(f(digests)).decode() + '-%d' % len(parts)
    out[name] = entry
print(json.dumps(out))
