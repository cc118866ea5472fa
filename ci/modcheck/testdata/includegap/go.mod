module dagger/includegap

go 1.26.3

require (
	dagger.io/dagger v0.21.9
	github.com/paved-ci/paved v0.0.0-00010101000000-000000000000 // indirect
	go.opentelemetry.io/otel v1.44.0
	go.opentelemetry.io/otel/metric v1.44.0
	go.opentelemetry.io/otel/sdk v1.44.0
	go.opentelemetry.io/otel/trace v1.44.0
)

replace github.com/paved-ci/paved => ../../../..
