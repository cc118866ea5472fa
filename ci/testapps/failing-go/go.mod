module github.com/paved-ci/paved/ci/testapps/failing-go

go 1.26
