package pdf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
)

// CryptMethod is how a crypt filter encrypts strings or streams (ISO
// 32000-2 §7.6.6, Table 25 /CFM).
type CryptMethod uint8

// Crypt methods.
const (
	CryptIdentity CryptMethod = iota // no encryption (/Identity or /None)
	CryptRC4                         // RC4 with a per-object key (/V2, and V1/V2 handlers)
	CryptAESV2                       // AES-128-CBC with a per-object key
	CryptAESV3                       // AES-256-CBC with the file key
)

// Permission bits of /P (ISO 32000-2 §7.6.4.2, Table 22), numbered from 1.
const (
	PermPrint      = 1 << 2  // bit 3: print
	PermModify     = 1 << 3  // bit 4: modify contents other than by bits 6, 9, 11
	PermCopy       = 1 << 4  // bit 5: copy text and graphics
	PermAnnotate   = 1 << 5  // bit 6: add or modify annotations, fill in form fields
	PermFillForms  = 1 << 8  // bit 9: fill in existing form fields, including signature fields
	PermAssemble   = 1 << 10 // bit 11: assemble the document
	PermPrintHighQ = 1 << 11 // bit 12: faithful print
)

// Security describes the standard security handler of an encrypted
// document (ISO 32000-2 §7.6.4). Methods are safe for concurrent use.
type Security struct {
	// Filter is the security handler's name; only /Standard is supported.
	Filter Name
	// V and R are the algorithm version and the handler revision.
	V, R int
	// P holds the permission bits (see PermModify and the others).
	P uint32
	// NeedsPassword reports that the empty user password does not open
	// the document (or the handler is not supported): its objects cannot
	// be decrypted.
	NeedsPassword bool
	// Key is the file encryption key, nil when NeedsPassword.
	Key []byte
	// StrMethod and StmMethod encrypt strings and streams.
	StrMethod, StmMethod CryptMethod
	// EncryptMetadata is false when metadata streams are left in clear.
	EncryptMetadata bool

	encryptRef Ref                  // the /Encrypt dictionary, never decrypted
	filters    map[Name]CryptMethod // crypt filters by name, for /Crypt stream filters
}

// padding is the password padding string (ISO 32000-2 §7.6.4.3.2, step a).
var padding = []byte{
	0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
	0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
}

// bytesOf returns the bytes of a String or HexString.
func bytesOf(o Object) ([]byte, bool) {
	switch v := o.(type) {
	case String:
		return v, true
	case HexString:
		return v, true
	}
	return nil, false
}

// initSecurity reads the /Encrypt dictionary and tries the empty user
// password.
func (r *Reader) initSecurity() error {
	encRef, _ := r.trailer["Encrypt"].(Ref)
	o, err := r.Resolve(r.trailer["Encrypt"])
	if err != nil {
		return fmt.Errorf("read /Encrypt: %w", err)
	}
	d, ok := o.(Dict)
	if !ok {
		return fmt.Errorf("%w: /Encrypt is not a dictionary", ErrDamaged)
	}
	s := &Security{encryptRef: encRef, EncryptMetadata: true, NeedsPassword: true}
	r.sec = s
	s.Filter, _ = d["Filter"].(Name)
	v, _ := d["V"].(Integer)
	rv, _ := d["R"].(Integer)
	p, _ := d["P"].(Integer)
	s.V, s.R, s.P = int(v), int(rv), uint32(int32(p))
	if b, ok := d["EncryptMetadata"].(Bool); ok {
		s.EncryptMetadata = bool(b)
	}
	if s.Filter != "Standard" {
		return nil
	}
	var id0 []byte
	if ids, ok := r.trailer["ID"].(Array); ok && len(ids) > 0 {
		id0, _ = bytesOf(ids[0])
	}
	o1, _ := bytesOf(d["O"])
	u1, _ := bytesOf(d["U"])
	switch s.V {
	case 1, 2:
		s.StrMethod, s.StmMethod = CryptRC4, CryptRC4
	case 4, 5:
		s.filters = map[Name]CryptMethod{"Identity": CryptIdentity}
		cf, _ := d["CF"].(Dict)
		for name, fo := range cf {
			fd, _ := fo.(Dict)
			switch cfm, _ := fd["CFM"].(Name); cfm {
			case "V2":
				s.filters[name] = CryptRC4
			case "AESV2":
				s.filters[name] = CryptAESV2
			case "AESV3":
				s.filters[name] = CryptAESV3
			case "None", "":
				s.filters[name] = CryptIdentity
			default:
				return nil // unknown method: cannot open
			}
		}
		pick := func(key Name) (CryptMethod, bool) {
			n, ok := d[key].(Name)
			if !ok {
				return CryptIdentity, true
			}
			m, ok := s.filters[n]
			return m, ok
		}
		var ok1, ok2 bool
		s.StrMethod, ok1 = pick("StrF")
		s.StmMethod, ok2 = pick("StmF")
		if !ok1 || !ok2 {
			return nil
		}
	default:
		return nil
	}
	switch {
	case s.R >= 2 && s.R <= 4:
		n := 5
		if s.R >= 3 {
			l, _ := d["Length"].(Integer)
			if l == 0 {
				l = 40
			}
			if l < 40 || l > 128 || l%8 != 0 {
				return nil
			}
			n = int(l) / 8
		}
		key := s.legacyKey(nil, o1, id0, n)
		if s.checkLegacyUser(key, u1, id0) {
			s.Key, s.NeedsPassword = key, false
		}
	case s.R == 5 || s.R == 6:
		ue, _ := bytesOf(d["UE"])
		if key, ok := s.modernKey(nil, u1, ue); ok {
			s.Key, s.NeedsPassword = key, false
		}
	}
	return nil
}

// legacyKey computes the file key from a user password (ISO 32000-2
// §7.6.4.3.2, Algorithm 2).
func (s *Security) legacyKey(password, o, id0 []byte, n int) []byte {
	h := md5.New()
	pw := append(append([]byte{}, password...), padding...)[:32]
	h.Write(pw)
	h.Write(o)
	var p [4]byte
	binary.LittleEndian.PutUint32(p[:], s.P)
	h.Write(p[:])
	h.Write(id0)
	if s.R >= 4 && !s.EncryptMetadata {
		h.Write([]byte{0xff, 0xff, 0xff, 0xff})
	}
	key := h.Sum(nil)
	if s.R >= 3 {
		for range 50 {
			sum := md5.Sum(key[:n])
			key = sum[:]
		}
	}
	return key[:n]
}

// checkLegacyUser checks the user password's key against /U (ISO 32000-2
// §7.6.4.4.4 and §7.6.4.4.5, Algorithms 4, 5 and 6).
func (s *Security) checkLegacyUser(key, u, id0 []byte) bool {
	if s.R == 2 {
		c, err := rc4.NewCipher(key)
		if err != nil {
			return false
		}
		out := make([]byte, 32)
		c.XORKeyStream(out, padding)
		return len(u) >= 32 && bytes.Equal(out, u[:32])
	}
	h := md5.New()
	h.Write(padding)
	h.Write(id0)
	out := h.Sum(nil)
	k := make([]byte, len(key))
	for i := range 20 {
		for j := range key {
			k[j] = key[j] ^ byte(i)
		}
		c, err := rc4.NewCipher(k)
		if err != nil {
			return false
		}
		c.XORKeyStream(out, out)
	}
	return len(u) >= 16 && bytes.Equal(out, u[:16])
}

// modernKey validates a user password against /U and unwraps /UE (ISO
// 32000-2 §7.6.4.3.3, Algorithm 2.A; §7.6.4.4.10, Algorithm 11).
func (s *Security) modernKey(password, u, ue []byte) ([]byte, bool) {
	if len(u) < 48 || len(ue) < 32 {
		return nil, false
	}
	if len(password) > 127 {
		password = password[:127]
	}
	if !bytes.Equal(s.hash2B(password, u[32:40], nil), u[:32]) {
		return nil, false
	}
	ik := s.hash2B(password, u[40:48], nil)
	block, err := aes.NewCipher(ik)
	if err != nil {
		return nil, false
	}
	key := make([]byte, 32)
	cipher.NewCBCDecrypter(block, make([]byte, 16)).CryptBlocks(key, ue[:32])
	return key, true
}

// hash2B is the password hash of revision 6 (ISO 32000-2 §7.6.4.3.4,
// Algorithm 2.B); revision 5 uses plain SHA-256.
func (s *Security) hash2B(password, salt, udata []byte) []byte {
	h := sha256.New()
	h.Write(password)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	if s.R == 5 {
		return k
	}
	for i := 0; ; {
		unit := make([]byte, 0, len(password)+len(k)+len(udata))
		unit = append(append(append(unit, password...), k...), udata...)
		k1 := bytes.Repeat(unit, 64)
		block, err := aes.NewCipher(k[:16])
		if err != nil {
			return nil
		}
		e := make([]byte, len(k1))
		cipher.NewCBCEncrypter(block, k[16:32]).CryptBlocks(e, k1)
		var sum int
		for _, b := range e[:16] {
			sum += int(b)
		}
		var hh hash.Hash
		switch sum % 3 {
		case 0:
			hh = sha256.New()
		case 1:
			hh = sha512.New384()
		default:
			hh = sha512.New()
		}
		hh.Write(e)
		k = hh.Sum(nil)
		i++
		if i >= 64 && int(e[len(e)-1]) <= i-32 {
			break
		}
	}
	return k[:32]
}

// objectKey returns the key for one object (ISO 32000-2 §7.6.3.3,
// Algorithm 1); AESV3 uses the file key itself.
func (s *Security) objectKey(ref Ref, m CryptMethod) []byte {
	if m == CryptAESV3 {
		return s.Key
	}
	h := md5.New()
	h.Write(s.Key)
	h.Write([]byte{byte(ref.Num), byte(ref.Num >> 8), byte(ref.Num >> 16), byte(ref.Gen), byte(ref.Gen >> 8)})
	if m == CryptAESV2 {
		h.Write([]byte("sAlT"))
	}
	return h.Sum(nil)[:min(len(s.Key)+5, 16)]
}

// decrypt reverses method m on data of object ref.
func (s *Security) decrypt(ref Ref, m CryptMethod, data []byte) ([]byte, error) {
	switch m {
	case CryptIdentity:
		return data, nil
	case CryptRC4:
		c, err := rc4.NewCipher(s.objectKey(ref, m))
		if err != nil {
			return nil, err
		}
		out := make([]byte, len(data))
		c.XORKeyStream(out, data)
		return out, nil
	}
	if len(data) == 0 || len(data) == 16 {
		// Nothing, or an IV alone: an empty string.
		return nil, nil
	}
	if len(data) < 32 || len(data)%16 != 0 {
		return nil, fmt.Errorf("%w: AES data of %d bytes in object %d", ErrDamaged, len(data), ref.Num)
	}
	block, err := aes.NewCipher(s.objectKey(ref, m))
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(data)-16)
	cipher.NewCBCDecrypter(block, data[:16]).CryptBlocks(out, data[16:])
	if n := int(out[len(out)-1]); n >= 1 && n <= 16 && bytes.Equal(out[len(out)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		out = out[:len(out)-n]
	}
	return out, nil
}

// encrypt applies method m to plain for object ref.
func (s *Security) encrypt(ref Ref, m CryptMethod, plain []byte) ([]byte, error) {
	if s.NeedsPassword {
		return nil, ErrEncrypted
	}
	switch m {
	case CryptIdentity:
		return bytes.Clone(plain), nil
	case CryptRC4:
		return s.decrypt(ref, m, plain) // RC4 is symmetric
	}
	block, err := aes.NewCipher(s.objectKey(ref, m))
	if err != nil {
		return nil, err
	}
	n := 16 - len(plain)%16
	out := make([]byte, 16+len(plain)+n)
	if _, err := rand.Read(out[:16]); err != nil {
		return nil, err
	}
	copy(out[16:], plain)
	for i := 16 + len(plain); i < len(out); i++ {
		out[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, out[:16]).CryptBlocks(out[16:], out[16:])
	return out, nil
}

// EncryptString encrypts the bytes of a string of object ref for writing
// (ISO 32000-2 §7.6.3); AES output starts with a random IV from
// crypto/rand. It returns ErrEncrypted when the document needs a
// password.
func (s *Security) EncryptString(ref Ref, plain []byte) ([]byte, error) {
	return s.encrypt(ref, s.StrMethod, plain)
}

// EncryptStream encrypts the encoded data of stream object ref for writing,
// with the document's default stream method. It returns ErrEncrypted when
// the document needs a password.
func (s *Security) EncryptStream(ref Ref, plain []byte) ([]byte, error) {
	return s.encrypt(ref, s.StmMethod, plain)
}

// decryptStream decrypts the raw data of st, honouring a /Crypt filter
// and leaving clear metadata alone.
func (s *Security) decryptStream(st *Stream, raw []byte) ([]byte, error) {
	if s.NeedsPassword {
		return nil, ErrEncrypted
	}
	if t, _ := st.Dict["Type"].(Name); t == "XRef" || t == "Metadata" && !s.EncryptMetadata {
		return raw, nil
	}
	m := s.StmMethod
	if name, ok := cryptFilterName(st.Dict); ok {
		if m, ok = s.filters[name]; !ok {
			return nil, fmt.Errorf("%w: unknown crypt filter /%s", ErrUnsupportedFilter, name)
		}
	}
	out, err := s.decrypt(st.ref, m, raw)
	if err != nil {
		return nil, fmt.Errorf("decrypt stream %d %d: %w", st.ref.Num, st.ref.Gen, err)
	}
	return out, nil
}

// cryptFilterName returns the crypt filter a stream names with a /Crypt
// filter (ISO 32000-2 §7.4.10), /Identity by default.
func cryptFilterName(d Dict) (Name, bool) {
	var filters, parms Array
	switch f := d["Filter"].(type) {
	case Name:
		filters = Array{f}
		parms = Array{d["DecodeParms"]}
	case Array:
		filters = f
		parms, _ = d["DecodeParms"].(Array)
	}
	for i, f := range filters {
		if f != Name("Crypt") {
			continue
		}
		if i < len(parms) {
			if p, ok := parms[i].(Dict); ok {
				if n, ok := p["Name"].(Name); ok {
					return n, true
				}
			}
		}
		return "Identity", true
	}
	return "", false
}

// decryptObject decrypts, in place, the strings of a freshly parsed object
// ref. The /Encrypt dictionary, cross-reference streams and the /Contents
// of signature dictionaries are not encrypted (ISO 32000-2 §7.6.2,
// §12.8.1).
func (r *Reader) decryptObject(ref Ref, obj Object) error {
	s := r.sec
	if s == nil || ref == s.encryptRef {
		return nil
	}
	if st, ok := obj.(*Stream); ok {
		if t, _ := st.Dict["Type"].(Name); t == "XRef" {
			st.plain = true
			return nil
		}
		obj = st.Dict
	}
	if s.NeedsPassword || s.StrMethod == CryptIdentity {
		return nil
	}
	return s.decryptStrings(ref, obj, 0)
}

// maxCryptDepth bounds the recursion of decryptStrings; the parser already
// bounds nesting, this is a second guard.
const maxCryptDepth = 256

func (s *Security) decryptStrings(ref Ref, obj Object, depth int) error {
	if depth > maxCryptDepth {
		return fmt.Errorf("%w: nesting depth while decrypting", ErrLimit)
	}
	dec := func(o Object) Object {
		switch v := o.(type) {
		case String:
			if out, err := s.decrypt(ref, s.StrMethod, v); err == nil {
				return String(out)
			}
		case HexString:
			if out, err := s.decrypt(ref, s.StrMethod, v); err == nil {
				return HexString(out)
			}
		}
		// Undecryptable strings are kept as they are, as viewers do.
		return o
	}
	switch v := obj.(type) {
	case Array:
		for i, x := range v {
			v[i] = dec(x)
			if err := s.decryptStrings(ref, x, depth+1); err != nil {
				return err
			}
		}
	case Dict:
		_, isSig := v["ByteRange"]
		for k, x := range v {
			if isSig && k == "Contents" {
				continue
			}
			v[k] = dec(x)
			if err := s.decryptStrings(ref, x, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Allows reports whether all the permission bits in perm are set in /P.
func (s *Security) Allows(perm uint32) bool { return s.P&perm == perm }
