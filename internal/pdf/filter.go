package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"sync"
)

// decodeLimits bound the output of stream filters.
type decodeLimits struct {
	maxBytes int64 // absolute output bound
	maxRatio int64 // output/input bound, checked once output exceeds ratioFloor
}

// ratioFloor is the output size below which the compression ratio is not
// checked: small streams of repeated bytes legitimately compress very well.
const ratioFloor = 1 << 20

// filterChain returns the filter names and their parameters of a stream
// dictionary (ISO 32000-2 §7.4, Table 5). Parameters may be nil.
func filterChain(r *Reader, d Dict) ([]Name, []Dict, error) {
	fo, err := r.Resolve(d["Filter"])
	if err != nil {
		return nil, nil, err
	}
	po, err := r.Resolve(d["DecodeParms"])
	if err != nil {
		return nil, nil, err
	}
	var names []Name
	var parms []Dict
	switch f := fo.(type) {
	case nil:
		return nil, nil, nil
	case Name:
		names = []Name{f}
		p, err := r.Resolve(po)
		if err != nil {
			return nil, nil, err
		}
		pd, _ := p.(Dict)
		if a, ok := p.(Array); ok && len(a) > 0 {
			x, err := r.Resolve(a[0])
			if err != nil {
				return nil, nil, err
			}
			pd, _ = x.(Dict)
		}
		parms = []Dict{pd}
	case Array:
		if len(f) > 8 {
			return nil, nil, fmt.Errorf("%w: %d filters on one stream", ErrLimit, len(f))
		}
		pa, _ := po.(Array)
		for i, x := range f {
			x, err := r.Resolve(x)
			if err != nil {
				return nil, nil, err
			}
			n, ok := x.(Name)
			if !ok {
				return nil, nil, fmt.Errorf("%w: /Filter entry is not a name", ErrUnsupportedFilter)
			}
			names = append(names, n)
			var pd Dict
			if i < len(pa) {
				p, err := r.Resolve(pa[i])
				if err != nil {
					return nil, nil, err
				}
				pd, _ = p.(Dict)
			}
			parms = append(parms, pd)
		}
	default:
		return nil, nil, fmt.Errorf("%w: /Filter is neither a name nor an array", ErrUnsupportedFilter)
	}
	return names, parms, nil
}

// decodeFilter applies one decoding filter.
func decodeFilter(name Name, parms Dict, data []byte, lim decodeLimits) ([]byte, error) {
	switch name {
	case "FlateDecode", "Fl":
		out, err := inflate(data, lim, 0)
		if err != nil {
			return nil, err
		}
		return unpredict(out, parms)
	case "Crypt":
		// Only the Identity crypt filter reaches here; others are applied
		// by the security handler before decoding.
		return data, nil
	}
	return nil, fmt.Errorf("%w: /%s", ErrUnsupportedFilter, name)
}

// inflaters keeps zlib decompressors for reuse: each holds about 40 KB of
// tables, and signing decodes a few streams per document.
var inflaters sync.Pool // of io.ReadCloser implementing zlib.Resetter

// inflate decompresses zlib data (RFC 1950/1951) with bounded output. A
// stream whose checksum or end is damaged keeps the bytes decoded so far,
// as viewers do, as long as some bytes were produced. sizeHint, when
// positive, is the expected decoded size.
func inflate(data []byte, lim decodeLimits, sizeHint int) ([]byte, error) {
	src := bytes.NewReader(data)
	var zr io.ReadCloser
	if z, ok := inflaters.Get().(io.ReadCloser); ok {
		if err := z.(zlib.Resetter).Reset(src, nil); err != nil {
			return nil, fmt.Errorf("flate: %w", err)
		}
		zr = z
	} else {
		z, err := zlib.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("flate: %w", err)
		}
		zr = z
	}
	defer func() {
		zr.Close()
		inflaters.Put(zr)
	}()
	if sizeHint <= 0 {
		sizeHint = 4 * len(data)
	}
	out := make([]byte, 0, min(int64(sizeHint)+512, lim.maxBytes+1, 64<<20))
	for {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, err := zr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if int64(len(out)) > lim.maxBytes {
			return nil, fmt.Errorf("%w: decoded stream over %d bytes", ErrLimit, lim.maxBytes)
		}
		if len(out) > ratioFloor && int64(len(out)) > lim.maxRatio*int64(len(data)+1) {
			return nil, fmt.Errorf("%w: decompression ratio over %d", ErrLimit, lim.maxRatio)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			if len(out) > 0 && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, zlib.ErrChecksum)) {
				return out, nil
			}
			return nil, fmt.Errorf("flate: %w", err)
		}
	}
}

// intParm reads an integer decode parameter with a default.
func intParm(d Dict, key Name, def int) int {
	if v, ok := d[key].(Integer); ok {
		return int(v)
	}
	return def
}

// unpredict reverses the TIFF (2) and PNG (10-15) predictors of LZW and
// Flate (ISO 32000-2 §7.4.4.4, Table 10).
func unpredict(data []byte, parms Dict) ([]byte, error) {
	pred := intParm(parms, "Predictor", 1)
	if pred == 1 {
		return data, nil
	}
	colors := intParm(parms, "Colors", 1)
	bpc := intParm(parms, "BitsPerComponent", 8)
	columns := intParm(parms, "Columns", 1)
	if colors < 1 || colors > 32 || columns < 1 || columns > 1<<24 {
		return nil, fmt.Errorf("%w: bad predictor parameters", ErrUnsupportedFilter)
	}
	switch bpc {
	case 1, 2, 4, 8, 16:
	default:
		return nil, fmt.Errorf("%w: bad /BitsPerComponent %d", ErrUnsupportedFilter, bpc)
	}
	bpp := (colors*bpc + 7) / 8            // bytes per pixel, at least 1
	rowLen := (colors*bpc*columns + 7) / 8 // bytes per row without the tag
	switch {
	case pred == 2:
		if bpc != 8 {
			return nil, fmt.Errorf("%w: TIFF predictor with %d bits", ErrUnsupportedFilter, bpc)
		}
		out := bytes.Clone(data)
		for row := 0; row+rowLen <= len(out); row += rowLen {
			for i := bpp; i < rowLen; i++ {
				out[row+i] += out[row+i-bpp]
			}
		}
		return out, nil
	case pred >= 10 && pred <= 15:
		return unpredictPNG(data, rowLen, bpp)
	}
	return nil, fmt.Errorf("%w: predictor %d", ErrUnsupportedFilter, pred)
}

// unpredictPNG reverses PNG row filters (RFC 2083 §6): each row starts with
// its filter type byte.
func unpredictPNG(data []byte, rowLen, bpp int) ([]byte, error) {
	stride := rowLen + 1
	rows := len(data) / stride
	if rows == 0 {
		return nil, nil
	}
	out := make([]byte, rows*rowLen)
	prev := make([]byte, rowLen)
	for r := range rows {
		in := data[r*stride : (r+1)*stride]
		cur := out[r*rowLen : (r+1)*rowLen]
		src := in[1:]
		switch in[0] {
		case 0:
			copy(cur, src)
		case 1:
			for i := range rowLen {
				var left byte
				if i >= bpp {
					left = cur[i-bpp]
				}
				cur[i] = src[i] + left
			}
		case 2:
			for i := range rowLen {
				cur[i] = src[i] + prev[i]
			}
		case 3:
			for i := range rowLen {
				var left int
				if i >= bpp {
					left = int(cur[i-bpp])
				}
				cur[i] = src[i] + byte((left+int(prev[i]))/2)
			}
		case 4:
			for i := range rowLen {
				var a, c int
				if i >= bpp {
					a = int(cur[i-bpp])
					c = int(prev[i-bpp])
				}
				cur[i] = src[i] + paeth(a, int(prev[i]), c)
			}
		default:
			return nil, fmt.Errorf("%w: PNG filter type %d", ErrUnsupportedFilter, in[0])
		}
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c int) byte {
	p := a + b - c
	pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
	if pa <= pb && pa <= pc {
		return byte(a)
	}
	if pb <= pc {
		return byte(b)
	}
	return byte(c)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
