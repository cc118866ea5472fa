module github.com/paved-ci/paved/ci/testapps/vulnerable-go

go 1.26

require golang.org/x/text v0.3.7
