package gotool

import (
	"strings"
	"testing"
)

func TestModuleEnvAndCheckEnv(t *testing.T) {
	if env := ModuleEnv("", " ", ""); env != nil {
		t.Errorf("no flags gave %v", env)
	}
	env := ModuleEnv("https://goproxy.example.com,direct", "github.com/acme/*", "github.com/acme/*")
	if len(env) != 3 || env["GOPROXY"] != "https://goproxy.example.com,direct" || env["GOPRIVATE"] != "github.com/acme/*" {
		t.Errorf("env %v", env)
	}
	if err := CheckEnv(env); err != nil {
		t.Errorf("plain settings refused: %v", err)
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"GITHUB_TOKEN": "x"}, "toolchain variable GITHUB_TOKEN: only GOPROXY"},
		{map[string]string{"GOPROXY": "https://bot:s3cret-sentinel@goproxy.example.com,direct"}, "GOPROXY holds credentials in a URL (https://***@goproxy.example.com): give them as a netrc secret"},
		{map[string]string{"GOPROXY": "https://proxy.example.com|https://u:p@other.example.com/x"}, "credentials in a URL"},
	} {
		err := CheckEnv(c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v", c.env, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-sentinel") {
			t.Errorf("the error repeats the credential: %v", err)
		}
	}
	// a path with @ (a version) is not a credential
	if err := CheckEnv(map[string]string{"GOPROXY": "https://proxy.example.com/mod@v1"}); err != nil {
		t.Errorf("@ in the path refused: %v", err)
	}
}
