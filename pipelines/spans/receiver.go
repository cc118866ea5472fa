package spans

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Receiver is an OTLP/HTTP trace endpoint on loopback that keeps the spans
// it is sent. The dagger CLI exports with http/protobuf when pointed at it
// by the environment Env returns.
type Receiver struct {
	srv  *http.Server
	ln   net.Listener
	mu   sync.Mutex
	got  []Span
	errs []string
	reqs int
}

// maxBody bounds one export request; the dagger CLI sends batches of a few
// hundred kilobytes at most.
const maxBody = 64 << 20

// Listen starts a receiver on 127.0.0.1 at a free port.
func Listen() (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot listen on loopback for the trace: %w", err)
	}
	r := &Receiver{ln: ln}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

// URL is the traces endpoint, http://127.0.0.1:PORT/v1/traces.
func (r *Receiver) URL() string { return "http://" + r.ln.Addr().String() + "/v1/traces" }

// Env is what a child dagger process needs to send its spans here. The
// traces-specific variables win over a general OTEL_EXPORTER_OTLP_ENDPOINT
// the job may set, so only traces are redirected.
func (r *Receiver) Env() []string {
	return []string{
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + r.URL(),
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf",
	}
}

// ServeHTTP accepts an ExportTraceServiceRequest; logs and metrics sent to
// the sibling paths are acknowledged and dropped.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "POST an OTLP export", http.StatusMethodNotAllowed)
		return
	}
	body := io.Reader(http.MaxBytesReader(w, req.Body, maxBody))
	if strings.EqualFold(req.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			r.fail(w, fmt.Sprintf("gzip body: %v", err))
			return
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		r.fail(w, fmt.Sprintf("reading body: %v", err))
		return
	}
	if req.URL.Path == "/v1/traces" {
		if ct := req.Header.Get("Content-Type"); strings.Contains(ct, "json") {
			r.fail(w, "OTLP/HTTP JSON is not supported: export with OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf")
			return
		}
		spans, err := DecodeRequest(b)
		if err != nil {
			r.fail(w, err.Error())
			return
		}
		r.mu.Lock()
		r.got = append(r.got, spans...)
		r.reqs++
		r.mu.Unlock()
	}
	// An empty body is a valid empty Export*ServiceResponse.
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (r *Receiver) fail(w http.ResponseWriter, msg string) {
	r.mu.Lock()
	r.errs = append(r.errs, msg)
	r.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

// Close stops the receiver and returns the spans it kept and the problems
// it met (each one a rejected export request).
func (r *Receiver) Close() ([]Span, []string) {
	r.srv.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got, r.errs
}

// Requests is how many trace export requests were accepted.
func (r *Receiver) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs
}
