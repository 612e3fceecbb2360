#!/usr/bin/env python3
# Makes tests/data/tls/sliver.der: python3 make_sliver.py leaf.der sliver.der
# Builds a certificate whose subject/issuer have Sliver's empty ST/L/street RDNs, reusing
# leaf.der's key, algorithms and signature bytes (tls.certs needs only bytes that decode).
import sys
def tlv(tag, body):
    n=len(body)
    if n<128: l=bytes([n])
    elif n<256: l=bytes([0x81,n])
    else: l=bytes([0x82,n>>8,n&255])
    return bytes([tag])+l+body
def read(b,i):
    tag=b[i]; n=b[i+1]; j=i+2
    if n&0x80:
        k=n&0x7f; n=int.from_bytes(b[j:j+k],'big'); j+=k
    return tag,j,j+n  # tag, body start, end
leaf=open(sys.argv[1],'rb').read()
_,cs,ce=read(leaf,0)
_,ts,te=read(leaf,cs)           # tbs
tbs_end=te
elems=[]; i=ts
while i<te:
    t,bs,be=read(leaf,i); elems.append(leaf[i:be]); i=be
# version, serial, sigalg, issuer, validity, subject, spki, [exts]
rest=leaf[tbs_end:ce]  # sigalg + signature
def rdn(oid_last, tag, val):
    return tlv(0x31, tlv(0x30, tlv(0x06, bytes([0x55,0x04,oid_last])) + tlv(tag, val)))
name = tlv(0x30, rdn(6,0x13,b'US')+rdn(8,0x13,b'')+rdn(7,0x13,b'')+rdn(9,0x13,b'')+rdn(17,0x13,b'1234')+rdn(3,0x13,b'multiplayer'))
off = 1 if elems[0][0]==0xa0 else 0
ver = elems[0] if off else b''
tbs = tlv(0x30, ver+tlv(0x02,bytes([0x11,0x22,0x33]))+elems[off+1]+name+elems[off+3]+name+elems[off+5])
open(sys.argv[2],'wb').write(tlv(0x30, tbs+rest))
