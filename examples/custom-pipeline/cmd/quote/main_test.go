package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestQuoteIsStableForADay(t *testing.T) {
	morning := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if quoteFor(morning) != quoteFor(morning.Add(10*time.Hour)) {
		t.Error("quote changed within a day")
	}
	if quoteFor(morning) == quoteFor(morning.Add(24*time.Hour)) {
		t.Error("quote did not change the next day")
	}
}

func TestEndpoints(t *testing.T) {
	srv := httptest.NewServer(mux(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/quote")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body["quote"] == "" {
		t.Errorf("/quote: %v %v", body, err)
	}
	res, err = http.Get(srv.URL + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Errorf("/healthz: %v %v", res, err)
	}
}
