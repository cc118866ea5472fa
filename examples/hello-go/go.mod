module github.com/paved-ci/paved/examples/hello-go

go 1.26
