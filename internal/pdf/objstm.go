package pdf

import "fmt"

// objStm is a decoded object stream (ISO 32000-2 §7.5.7).
type objStm struct {
	data []byte
	nums []uint32
	offs []int // absolute offsets in data
}

// loadObjStm returns the object stream num, decoding it on first use.
func (r *Reader) loadObjStm(num uint32) (*objStm, error) {
	if os, ok := r.objStms[num]; ok {
		return os, nil
	}
	if err, ok := r.stmErrs[num]; ok {
		return nil, err
	}
	os, err := r.decodeObjStm(num)
	if err != nil {
		// Remember the failure: retrying it from every object it holds
		// could take exponential time on hostile input.
		r.stmErrs[num] = err
		return nil, err
	}
	r.objStms[num] = os
	return os, nil
}

// decodeObjStm reads and decodes object stream num and its header.
func (r *Reader) decodeObjStm(num uint32) (*objStm, error) {
	e, ok := r.xref.get(num)
	if !ok || e.kind != entryInUse {
		return nil, fmt.Errorf("%w: object stream %d is not an uncompressed object", ErrDamaged, num)
	}
	o, err := r.Get(Ref{Num: num, Gen: e.gen})
	if err != nil {
		return nil, err
	}
	s, ok := o.(*Stream)
	if !ok {
		return nil, fmt.Errorf("%w: object stream %d is not a stream", ErrDamaged, num)
	}
	n, ok1 := s.Dict["N"].(Integer)
	first, ok2 := s.Dict["First"].(Integer)
	if !ok1 || !ok2 || n < 0 || first < 0 || int64(n) > int64(r.opts.MaxObjects) {
		return nil, fmt.Errorf("%w: object stream %d: bad /N or /First", ErrDamaged, num)
	}
	data, err := r.StreamData(s)
	if err != nil {
		return nil, err
	}
	if int64(first) > int64(len(data)) || int64(n) > int64(len(data)) {
		return nil, fmt.Errorf("%w: object stream %d: /First or /N beyond its data", ErrDamaged, num)
	}
	os := &objStm{data: data, nums: make([]uint32, 0, n), offs: make([]int, 0, n)}
	lx := lexer{data: data[:first], final: true}
	for range int(n) {
		t1, err1 := lx.next()
		t2, err2 := lx.next()
		if err1 != nil || err2 != nil || t1.kind != tokInteger || t2.kind != tokInteger ||
			t1.i < 0 || t1.i > maxObjectNumber || t2.i < 0 || int64(first)+t2.i > int64(len(data)) {
			return nil, fmt.Errorf("%w: object stream %d: bad header", ErrDamaged, num)
		}
		os.nums = append(os.nums, uint32(t1.i))
		os.offs = append(os.offs, int(first)+int(t2.i))
	}
	return os, nil
}

// compressedObject returns object num, stored at index idx of object
// stream stm. Objects in object streams are not encrypted on their own
// (ISO 32000-2 §7.6.3), the stream as a whole is.
func (r *Reader) compressedObject(num, stm, idx uint32) (Object, error) {
	os, err := r.loadObjStm(stm)
	if err != nil {
		return nil, err
	}
	i := int(idx)
	if i >= len(os.nums) || os.nums[i] != num {
		// The index is wrong; look the number up instead.
		i = -1
		for k, n := range os.nums {
			if n == num {
				i = k
				break
			}
		}
		if i < 0 {
			return nil, nil
		}
	}
	p := newParser(os.data[os.offs[i]:], int64(os.offs[i]), true, r.opts.MaxDepth)
	return p.object()
}
