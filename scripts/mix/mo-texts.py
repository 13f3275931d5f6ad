# The Russian and Hebrew inputs of docs/mix.md, from Debian's message catalogs: russian-64k.txt, hebrew.txt in the current folder.
import struct,sys,os,re
def entries(path):
    d=open(path,'rb').read()
    magic=struct.unpack('<I',d[:4])[0]
    e='<' if magic==0x950412de else '>'
    _,_,n,o,t=struct.unpack(e+'5I',d[:20])
    out=[]
    for i in range(n):
        l,off=struct.unpack(e+'2I',d[o+8*i:o+8*i+8]); k=d[off:off+l]
        l,off=struct.unpack(e+'2I',d[t+8*i:t+8*i+8]); v=d[off:off+l]
        out.append((k,v))
    return out
ru=[]
for name in ['coreutils','tar','grep','sed','diffutils','findutils']:
    p=f'/usr/share/locale/ru/LC_MESSAGES/{name}.mo'
    if not os.path.exists(p): print('missing',p); continue
    for k,v in entries(p):
        if not k: continue
        for s in v.split(b'\0'):
            t=s.decode('utf8','replace')
            cyr=sum(1 for c in t if '\u0400'<=c<='\u04ff')
            if t and cyr*3>=len(t): ru.append(s)
open('russian-64k.txt','wb').write(b'\n'.join(ru)[:65536])
he=[]
for k,v in entries('/usr/share/locale/he/LC_MESSAGES/make.mo'):
    if not k: continue
    he.append(k.replace(b'\0',b'\n')); he.append(v.replace(b'\0',b'\n'))
open('hebrew.txt','wb').write(b'\n'.join(he))
