package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes. As text it is a whole number with an
// optional unit: B, KB, MB, GB or TB, which are powers of 1024 (the way
// the service's error texts count them), and KiB, MiB, GiB, TiB as
// synonyms; "50MB" and "50 MiB" are both 52428800 bytes.
type ByteSize int64

// Units of ByteSize.
const (
	KB ByteSize = 1 << (10 * (iota + 1))
	MB
	GB
	TB
)

// ParseByteSize parses s as described on [ByteSize]. It fails on negative,
// fractional and overflowing values and on unknown units.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("not a size (like 4096, 64KB or 50MB): %q", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	var unit ByteSize
	switch strings.ToUpper(strings.TrimSpace(t[i:])) {
	case "", "B":
		unit = 1
	case "K", "KB", "KIB":
		unit = KB
	case "M", "MB", "MIB":
		unit = MB
	case "G", "GB", "GIB":
		unit = GB
	case "T", "TB", "TIB":
		unit = TB
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KB, MB, GB or TB)", s, strings.TrimSpace(t[i:]))
	}
	if n > math.MaxInt64/int64(unit) {
		return 0, errors.New("size " + strconv.Quote(s) + " is too large")
	}
	return ByteSize(n) * unit, nil
}

// String returns the size in the largest unit that divides it exactly:
// "50MB", "64KB", "1000B".
func (b ByteSize) String() string {
	for _, u := range []struct {
		size ByteSize
		name string
	}{{TB, "TB"}, {GB, "GB"}, {MB, "MB"}, {KB, "KB"}} {
		if b != 0 && b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}
