// helm-render: renders a Helm chart's templates the way `helm template` does, for the checks in
// test/deploy/helm-chart.test.ts on machines without a helm binary (helm cannot be downloaded
// here). It implements what Mayfly's chart uses: Go text/template with sprig's functions plus
// Helm's include, tpl-free toYaml/fromYaml/required, values coalesced from values.yaml and one
// override file, and .Release/.Chart/.Capabilities. It is a stand-in, not Helm: where helm is
// installed, .ci/run runs helm lint and helm template as well.
//
// Usage: helm-render <chart dir> [values file] > manifests.yaml
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: helm-render <chart dir> [values file]")
	}
	chartDir := os.Args[1]
	chart := readYaml(filepath.Join(chartDir, "Chart.yaml"))
	values := readYaml(filepath.Join(chartDir, "values.yaml"))
	if len(os.Args) > 2 {
		values = coalesce(values, readYaml(os.Args[2]))
	}
	top := map[string]interface{}{
		"Values":       values,
		"Release":      map[string]interface{}{"Name": "mayfly", "Namespace": "mayfly", "Service": "Helm", "IsInstall": true, "IsUpgrade": false},
		"Chart":        map[string]interface{}{"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
		"Capabilities": map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.30.0"}},
	}

	root := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYaml
	funcs["fromYaml"] = fromYaml
	funcs["required"] = func(message string, value interface{}) (interface{}, error) {
		if value == nil || value == "" {
			return nil, fmt.Errorf("%s", message)
		}
		return value, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var out bytes.Buffer
		err := root.ExecuteTemplate(&out, name, data)
		return out.String(), err
	}
	root.Funcs(funcs)

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	check(err)
	sort.Strings(files)
	for _, file := range files {
		text, err := os.ReadFile(file)
		check(err)
		_, err = root.New(filepath.Base(file)).Parse(string(text))
		check(err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		if strings.HasPrefix(name, "_") {
			continue
		}
		var out bytes.Buffer
		if err := root.ExecuteTemplate(&out, name, top); err != nil {
			fail(err.Error())
		}
		if name == "NOTES.txt" {
			fmt.Fprintf(os.Stderr, "%s", out.String())
			continue
		}
		fmt.Printf("---\n# Source: %s\n%s\n", name, out.String())
	}
}

// coalesce merges override over base as Helm does: maps merge key by key, anything else replaces.
func coalesce(base, override map[string]interface{}) map[string]interface{} {
	result := map[string]interface{}{}
	for key, value := range base {
		result[key] = value
	}
	for key, value := range override {
		baseMap, baseIsMap := result[key].(map[string]interface{})
		overrideMap, overrideIsMap := value.(map[string]interface{})
		if baseIsMap && overrideIsMap {
			result[key] = coalesce(baseMap, overrideMap)
		} else {
			result[key] = value
		}
	}
	return result
}

func toYaml(value interface{}) string {
	var out bytes.Buffer
	encoder := yaml.NewEncoder(&out)
	encoder.SetIndent(2)
	if err := encoder.Encode(value); err != nil {
		return ""
	}
	return strings.TrimSuffix(out.String(), "\n")
}

func fromYaml(text string) map[string]interface{} {
	result := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(text), &result); err != nil {
		result["Error"] = err.Error()
	}
	return result
}

func readYaml(path string) map[string]interface{} {
	text, err := os.ReadFile(path)
	check(err)
	result := map[string]interface{}{}
	check(yaml.Unmarshal(text, &result))
	return result
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "helm-render:", message)
	os.Exit(1)
}
