package spans

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Span is the part of an OTLP span the cache count needs.
type Span struct {
	TraceID string    `json:"traceId"`
	ID      string    `json:"spanId"` // lower-case hex
	Parent  string    `json:"parentSpanId,omitempty"`
	Name    string    `json:"name"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// Attrs holds the string, bool, int and double attributes (as
	// string, bool, int64, float64; float64 after a JSON round trip);
	// arrays and maps are left out.
	Attrs map[string]any `json:"attributes,omitempty"`
	// Error is set when the span's status code is ERROR.
	Error bool `json:"error,omitempty"`
}

// Bool is a bool attribute, false when absent or of another type.
func (s Span) Bool(key string) bool {
	b, _ := s.Attrs[key].(bool)
	return b
}

// String is a string attribute, "" when absent or of another type.
func (s Span) String(key string) string {
	v, _ := s.Attrs[key].(string)
	return v
}

// DecodeRequest decodes the body of an OTLP/HTTP protobuf trace export
// (opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest).
//
// It is a hand-written protobuf wire reader for the handful of fields it
// keeps, so paved-ci stays free of the protobuf runtime and builds fast on
// a cold `go run`; the tests check it against messages encoded by the
// official go.opentelemetry.io/proto/otlp types.
func DecodeRequest(b []byte) ([]Span, error) {
	var out []Span
	// ExportTraceServiceRequest.resource_spans = 1
	err := fields(b, func(num int, typ int, v []byte, _ uint64) error {
		if num != 1 || typ != wireBytes {
			return nil
		}
		// ResourceSpans.scope_spans = 2
		return fields(v, func(num int, typ int, v []byte, _ uint64) error {
			if num != 2 || typ != wireBytes {
				return nil
			}
			// ScopeSpans.spans = 2
			return fields(v, func(num int, typ int, v []byte, _ uint64) error {
				if num != 2 || typ != wireBytes {
					return nil
				}
				s, err := decodeSpan(v)
				if err != nil {
					return err
				}
				out = append(out, s)
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("not an OTLP protobuf trace export: %w", err)
	}
	return out, nil
}

func decodeSpan(b []byte) (Span, error) {
	s := Span{Attrs: map[string]any{}}
	err := fields(b, func(num int, typ int, v []byte, n uint64) error {
		switch {
		case num == 1 && typ == wireBytes:
			s.TraceID = hex.EncodeToString(v)
		case num == 2 && typ == wireBytes:
			s.ID = hex.EncodeToString(v)
		case num == 4 && typ == wireBytes:
			s.Parent = hex.EncodeToString(v)
		case num == 5 && typ == wireBytes:
			s.Name = string(v)
		case num == 7 && typ == wireFixed64:
			s.Start = unixNano(n)
		case num == 8 && typ == wireFixed64:
			s.End = unixNano(n)
		case num == 9 && typ == wireBytes:
			k, val, err := decodeKeyValue(v)
			if err != nil {
				return err
			}
			if val != nil {
				s.Attrs[k] = val
			}
		case num == 15 && typ == wireBytes:
			// Status.code = 3; STATUS_CODE_ERROR = 2
			return fields(v, func(num int, typ int, _ []byte, n uint64) error {
				if num == 3 && typ == wireVarint && n == 2 {
					s.Error = true
				}
				return nil
			})
		}
		return nil
	})
	return s, err
}

func unixNano(n uint64) time.Time {
	if n == 0 || n > math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}

// decodeKeyValue reads a KeyValue{key = 1, value = 2 AnyValue}.
func decodeKeyValue(b []byte) (string, any, error) {
	var key string
	var val any
	err := fields(b, func(num int, typ int, v []byte, _ uint64) error {
		switch {
		case num == 1 && typ == wireBytes:
			key = string(v)
		case num == 2 && typ == wireBytes:
			// AnyValue: string 1, bool 2, int 3, double 4 (array 5,
			// kvlist 6, bytes 7 are not needed)
			return fields(v, func(num int, typ int, v []byte, n uint64) error {
				switch {
				case num == 1 && typ == wireBytes:
					val = string(v)
				case num == 2 && typ == wireVarint:
					val = n != 0
				case num == 3 && typ == wireVarint:
					val = int64(n)
				case num == 4 && typ == wireFixed64:
					val = math.Float64frombits(n)
				}
				return nil
			})
		}
		return nil
	})
	return key, val, err
}

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

var errTruncated = errors.New("truncated protobuf message")

// fields calls fn for each field of a protobuf message: v is the payload of
// a length-delimited field, n the value of a varint or fixed field. Groups
// (wire types 3, 4) are deprecated and not produced by OTLP encoders.
func fields(b []byte, fn func(num, typ int, v []byte, n uint64) error) error {
	for len(b) > 0 {
		tag, k := binary.Uvarint(b)
		if k <= 0 {
			return errTruncated
		}
		b = b[k:]
		num, typ := int(tag>>3), int(tag&7)
		if num == 0 {
			return errors.New("protobuf field number 0")
		}
		var v []byte
		var n uint64
		switch typ {
		case wireVarint:
			n, k = binary.Uvarint(b)
			if k <= 0 {
				return errTruncated
			}
			b = b[k:]
		case wireFixed64:
			if len(b) < 8 {
				return errTruncated
			}
			n, b = binary.LittleEndian.Uint64(b), b[8:]
		case wireFixed32:
			if len(b) < 4 {
				return errTruncated
			}
			n, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case wireBytes:
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return errTruncated
			}
			v, b = b[k:k+int(l)], b[k+int(l):]
		default:
			return fmt.Errorf("unsupported protobuf wire type %d", typ)
		}
		if err := fn(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSONLines writes one span per line, the format of
// `paved-ci trace --save-spans` and of the test fixtures.
func WriteJSONLines(w io.Writer, spans []Span) error {
	enc := json.NewEncoder(w)
	for _, s := range spans {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return nil
}

// ReadJSONLines reads what WriteJSONLines wrote; name labels errors.
func ReadJSONLines(r io.Reader, name string) ([]Span, error) {
	var out []Span
	dec := json.NewDecoder(r)
	for {
		var s Span
		err := dec.Decode(&s)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: span %d: %v (want one JSON span per line, as paved-ci trace --save-spans writes)", name, len(out)+1, err)
		}
		out = append(out, s)
	}
}
