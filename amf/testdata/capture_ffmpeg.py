#!/usr/bin/env python3
# Minimal RTMP server: accepts one ffmpeg publisher, answers connect/createStream/publish,
# and writes the raw AMF0 payloads of each command message to OUTDIR/<name>.bin.
import socket, sys, struct, os
PORT=int(sys.argv[1]); OUT=sys.argv[2]
def recvn(s,n):
    b=b''
    while len(b)<n:
        x=s.recv(n-len(b))
        if not x: raise EOFError
        b+=x
    return b
def astr(v):
    b=v.encode(); return b'\x02'+struct.pack('>H',len(b))+b
def anum(v): return b'\x00'+struct.pack('>d',v)
def aobj(kv):
    o=b'\x03'
    for k,v in kv:
        kb=k.encode(); o+=struct.pack('>H',len(kb))+kb+v
    return o+b'\x00\x00\x09'
def send(s, csid, typ, sid, payload):
    hdr=bytes([csid])+b'\x00\x00\x00'+len(payload).to_bytes(3,'big')+bytes([typ])+struct.pack('<I',sid)
    out=b''; first=True
    for i in range(0,len(payload),128):
        out+=(hdr if first else bytes([0xc0|csid]))+payload[i:i+128]; first=False
    if not payload: out=hdr
    s.sendall(out)
ls=socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1)
ls.bind(('127.0.0.1',PORT)); ls.listen(1); ls.settimeout(20)
s,_=ls.accept(); s.settimeout(10)
recvn(s,1); c1=recvn(s,1536)
s.sendall(bytes([3])+bytes(8)+os.urandom(1528)+c1); recvn(s,1536)
chunk=128; st={}
def readmsg():
    global chunk
    while True:
        h=recvn(s,1)[0]; fmt=h>>6; csid=h&0x3f
        if csid==0: csid=64+recvn(s,1)[0]
        elif csid==1: b=recvn(s,2); csid=64+b[0]+b[1]*256
        c=st.setdefault(csid,{'ts':0,'len':0,'typ':0,'sid':0,'buf':b''})
        if fmt<=2:
            ts=int.from_bytes(recvn(s,3),'big')
            if fmt<=1:
                m=recvn(s,4); c['len']=int.from_bytes(m[:3],'big'); c['typ']=m[3]
            if fmt==0: c['sid']=struct.unpack('<I',recvn(s,4))[0]
            if ts==0xffffff: recvn(s,4)
        n=min(chunk,c['len']-len(c['buf'])); c['buf']+=recvn(s,n)
        if len(c['buf'])==c['len']:
            b=c['buf']; c['buf']=b''
            if c['typ']==1: chunk=struct.unpack('>I',b)[0]&0x7fffffff; continue
            return c['typ'],c['sid'],b
def name(b):
    n=struct.unpack('>H',b[1:3])[0]; return b[3:3+n].decode()
def txn(b):
    n=struct.unpack('>H',b[1:3])[0]; return struct.unpack('>d',b[4+n:12+n])[0]
seen={}
while True:
    typ,sid,b=readmsg()
    if typ not in (17,18,20): continue
    if typ==17: b=b[1:]
    nm=name(b); key=nm.lstrip('@')
    seen[key]=seen.get(key,0)+1
    open(os.path.join(OUT,'ffmpeg_%s.bin'%key),'wb').write(b)
    print('captured',typ,nm,len(b),flush=True)
    if nm=='connect':
        send(s,3,20,0,astr('_result')+anum(txn(b))+aobj([('fmsVer',astr('FMS/3,0,1,123')),('capabilities',anum(31))])+aobj([('level',astr('status')),('code',astr('NetConnection.Connect.Success')),('description',astr('ok')),('objectEncoding',anum(0))]))
    elif nm=='createStream':
        send(s,3,20,0,astr('_result')+anum(txn(b))+b'\x05'+anum(1))
    elif nm=='publish':
        send(s,5,20,1,astr('onStatus')+anum(0)+b'\x05'+aobj([('level',astr('status')),('code',astr('NetStream.Publish.Start')),('description',astr('ok'))]))
    elif nm=='@setDataFrame':
        break
s.close()
