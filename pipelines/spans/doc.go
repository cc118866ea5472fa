// Package spans counts, per paved stage, the Dagger operations the engine
// served from its cache and those it ran, from the OpenTelemetry spans of a
// `dagger call`. The dagger CLI exports its spans to the OTLP/HTTP endpoint
// named by OTEL_EXPORTER_OTLP_ENDPOINT; Receiver is such an endpoint on
// loopback. It uses only the standard library: paved-ci imports it and must
// stay quick to build with a cold `go run`.
package spans
