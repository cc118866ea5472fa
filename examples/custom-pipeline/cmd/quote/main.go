// Command quote serves a quote of the day: GET /quote, GET /healthz.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"
)

var quotes = []string{
	"Simplicity is prerequisite for reliability.",
	"Make it work, make it right, make it fast.",
	"Clear is better than clever.",
}

// quoteFor picks the quote of a day: the same all day, every day a new one.
func quoteFor(day time.Time) string {
	return quotes[day.YearDay()%len(quotes)]
}

func mux(now func() time.Time) *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /quote", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"quote": quoteFor(now())})
	})
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	return m
}

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = ":8080"
	}
	srv := &http.Server{Addr: addr, Handler: mux(time.Now), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
