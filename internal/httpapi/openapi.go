package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// openAPIDocument is the OpenAPI 3.1 description of every public route,
// served at /openapi.json and rendered at /docs. Tests check it against
// the responses of the real server.
//
//go:embed openapi.json
var openAPIDocument string

// OpenAPIHandler serves the OpenAPI 3.1 description of the API
// (GET /openapi.json).
func OpenAPIHandler() http.Handler {
	return staticHandler("application/json", []byte(openAPIDocument))
}

// DocsHandler serves a self-contained HTML reference of the API (GET
// /docs), rendered on the server from the same OpenAPI document: no
// script, no external style sheet or font, nothing fetched from the
// network. It panics if the embedded document cannot be rendered, which
// TestDocsPage rules out.
func DocsHandler() http.Handler {
	page, err := renderDocs([]byte(openAPIDocument))
	if err != nil {
		panic("httpapi: render the API reference: " + err.Error())
	}
	return staticHandler("text/html; charset=utf-8", page)
}

func staticHandler(contentType string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=300")
		// The page needs nothing but its own inline style.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	})
}

// The parts of an OpenAPI document the reference page shows.
type (
	apiDoc struct {
		Info struct {
			Title       string `json:"title"`
			Version     string `json:"version"`
			Summary     string `json:"summary"`
			Description string `json:"description"`
		} `json:"info"`
		Tags []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"tags"`
		Paths      orderedMap[map[string]*apiOperation] `json:"paths"`
		Components struct {
			SecuritySchemes map[string]*apiSecurityScheme `json:"securitySchemes"`
			Headers         map[string]*apiHeader         `json:"headers"`
			Responses       map[string]*apiResponse       `json:"responses"`
			Schemas         map[string]*apiSchema         `json:"schemas"`
		} `json:"components"`
	}
	apiOperation struct {
		Tags        []string              `json:"tags"`
		OperationID string                `json:"operationId"`
		Summary     string                `json:"summary"`
		Description string                `json:"description"`
		Security    []map[string][]string `json:"security"`
		Parameters  []apiParameter        `json:"parameters"`
		RequestBody *struct {
			Content map[string]*apiMedia `json:"content"`
		} `json:"requestBody"`
		Responses map[string]*apiResponse `json:"responses"`
	}
	apiParameter struct {
		Name        string     `json:"name"`
		In          string     `json:"in"`
		Description string     `json:"description"`
		Required    bool       `json:"required"`
		Schema      *apiSchema `json:"schema"`
		Example     any        `json:"example"`
	}
	apiResponse struct {
		Ref         string                `json:"$ref"`
		Description string                `json:"description"`
		Headers     map[string]*apiHeader `json:"headers"`
		Content     map[string]*apiMedia  `json:"content"`
	}
	apiHeader struct {
		Ref         string     `json:"$ref"`
		Description string     `json:"description"`
		Required    bool       `json:"required"`
		Schema      *apiSchema `json:"schema"`
	}
	apiMedia struct {
		Schema   *apiSchema `json:"schema"`
		Example  any        `json:"example"`
		Examples orderedMap[struct {
			Summary string `json:"summary"`
			Value   any    `json:"value"`
		}] `json:"examples"`
	}
	apiSchema struct {
		Ref               string                 `json:"$ref"`
		Type              any                    `json:"type"` // a name or a list of names
		Description       string                 `json:"description"`
		Format            string                 `json:"format"`
		ContentMediaType  string                 `json:"contentMediaType"`
		ContentEncoding   string                 `json:"contentEncoding"`
		Enum              []any                  `json:"enum"`
		Const             any                    `json:"const"`
		Default           any                    `json:"default"`
		Example           any                    `json:"example"`
		Required          []string               `json:"required"`
		Properties        orderedMap[*apiSchema] `json:"properties"`
		PatternProperties orderedMap[*apiSchema] `json:"patternProperties"`
		Items             *apiSchema             `json:"items"`
	}
	apiSecurityScheme struct {
		Type        string `json:"type"`
		Scheme      string `json:"scheme"`
		Description string `json:"description"`
	}
)

// The page's view of the document, ready for the template.
type (
	docsPage struct {
		Title, Version string
		Summary        template.HTML
		Description    template.HTML
		Sections       []docsSection
		Schemas        []docsSchema
		Security       []docsSecurity
	}
	docsSection struct {
		Name        string
		Description template.HTML
		Operations  []docsOperation
	}
	docsOperation struct {
		Anchor, Method, Path, Summary string
		Description                   template.HTML
		Auth                          []string
		Parameters                    []docsField
		Bodies                        []docsBody
		Responses                     []docsResponse
	}
	docsBody struct {
		MediaType string
		Schema    docsType
		Fields    []docsField
	}
	docsResponse struct {
		Status, Class string
		Description   template.HTML
		Headers       []docsField
		Bodies        []docsBody
		Examples      []docsExample
	}
	docsExample struct {
		Summary string
		JSON    string
	}
	docsField struct {
		Name, In string
		Type     docsType
		Required bool
		Notes    template.HTML
	}
	docsType struct {
		Text, Link string // Link: anchor of a schema, or ""
	}
	docsSchema struct {
		Name        string
		Description template.HTML
		Type        docsType
		Fields      []docsField
	}
	docsSecurity struct {
		Name, Kind  string
		Description template.HTML
	}
)

// renderDocs renders the reference page of an OpenAPI document.
func renderDocs(document []byte) ([]byte, error) {
	var doc apiDoc
	if err := json.Unmarshal(document, &doc); err != nil {
		return nil, fmt.Errorf("decode OpenAPI document: %w", err)
	}
	page, err := doc.page()
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("docs").Parse(docsTemplate)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, page); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (doc *apiDoc) page() (*docsPage, error) {
	p := &docsPage{
		Title:       doc.Info.Title,
		Version:     doc.Info.Version,
		Summary:     prose(doc.Info.Summary),
		Description: prose(doc.Info.Description),
	}
	byTag := map[string]*docsSection{}
	for _, t := range doc.Tags {
		p.Sections = append(p.Sections, docsSection{Name: t.Name, Description: prose(t.Description)})
	}
	for i := range p.Sections {
		byTag[p.Sections[i].Name] = &p.Sections[i]
	}
	for _, item := range doc.Paths {
		path := item.Key
		// The order of operations under one path.
		for _, method := range []string{"get", "head", "post", "put", "patch", "delete", "options"} {
			op, ok := item.Value[method]
			if !ok {
				continue
			}
			if len(op.Tags) == 0 || byTag[op.Tags[0]] == nil {
				return nil, fmt.Errorf("%s %s: its first tag is not declared", method, path)
			}
			o, err := doc.operation(method, path, op)
			if err != nil {
				return nil, err
			}
			sec := byTag[op.Tags[0]]
			sec.Operations = append(sec.Operations, o)
		}
	}
	names := sortedKeys(doc.Components.Schemas)
	for _, name := range names {
		s := doc.Components.Schemas[name]
		p.Schemas = append(p.Schemas, docsSchema{
			Name:        name,
			Description: prose(s.Description),
			Type:        typeOf(s),
			Fields:      fields(s, ""),
		})
	}
	for _, name := range sortedKeys(doc.Components.SecuritySchemes) {
		s := doc.Components.SecuritySchemes[name]
		p.Security = append(p.Security, docsSecurity{Name: name, Kind: s.Type + " " + s.Scheme, Description: prose(s.Description)})
	}
	return p, nil
}

func (doc *apiDoc) operation(method, path string, op *apiOperation) (docsOperation, error) {
	o := docsOperation{
		Anchor:      "op-" + op.OperationID,
		Method:      strings.ToUpper(method),
		Path:        path,
		Summary:     op.Summary,
		Description: prose(op.Description),
	}
	for _, req := range op.Security {
		if len(req) == 0 {
			o.Auth = append(o.Auth, "none")
		}
		o.Auth = append(o.Auth, sortedKeys(req)...)
	}
	for _, prm := range op.Parameters {
		o.Parameters = append(o.Parameters, docsField{
			Name: prm.Name, In: prm.In, Type: typeOf(prm.Schema), Required: prm.Required,
			Notes: notes(prm.Description, prm.Example, prm.Schema),
		})
	}
	if op.RequestBody != nil {
		for _, mt := range sortedKeys(op.RequestBody.Content) {
			o.Bodies = append(o.Bodies, doc.body(mt, op.RequestBody.Content[mt]))
		}
	}
	for _, status := range sortedKeys(op.Responses) {
		r, err := doc.response(op.Responses[status])
		if err != nil {
			return o, fmt.Errorf("%s %s: response %s: %w", o.Method, path, status, err)
		}
		dr := docsResponse{Status: status, Class: "s" + status[:1], Description: prose(r.Description)}
		for _, name := range sortedKeys(r.Headers) {
			h, err := doc.header(r.Headers[name])
			if err != nil {
				return o, fmt.Errorf("%s %s: response %s: header %s: %w", o.Method, path, status, name, err)
			}
			dr.Headers = append(dr.Headers, docsField{Name: name, Type: typeOf(h.Schema), Required: h.Required, Notes: prose(h.Description)})
		}
		for _, mt := range sortedKeys(r.Content) {
			m := r.Content[mt]
			dr.Bodies = append(dr.Bodies, docsBody{MediaType: mt, Schema: typeOf(m.Schema)})
			if m.Example != nil {
				dr.Examples = append(dr.Examples, docsExample{JSON: exampleText(m.Example)})
			}
			for _, named := range m.Examples {
				ex := named.Value
				dr.Examples = append(dr.Examples, docsExample{Summary: ex.Summary, JSON: exampleText(ex.Value)})
			}
		}
		o.Responses = append(o.Responses, dr)
	}
	return o, nil
}

// body describes a request body, with the fields of its schema.
func (doc *apiDoc) body(mediaType string, m *apiMedia) docsBody {
	b := docsBody{MediaType: mediaType, Schema: typeOf(m.Schema)}
	if s := doc.resolveSchema(m.Schema); s != nil {
		b.Fields = fields(s, "")
	}
	return b
}

func (doc *apiDoc) resolveSchema(s *apiSchema) *apiSchema {
	if s == nil || s.Ref == "" {
		return s
	}
	return doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
}

func (doc *apiDoc) response(r *apiResponse) (*apiResponse, error) {
	if r.Ref == "" {
		return r, nil
	}
	name := strings.TrimPrefix(r.Ref, "#/components/responses/")
	if c, ok := doc.Components.Responses[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("unresolved $ref %q", r.Ref)
}

func (doc *apiDoc) header(h *apiHeader) (*apiHeader, error) {
	if h.Ref == "" {
		return h, nil
	}
	name := strings.TrimPrefix(h.Ref, "#/components/headers/")
	if c, ok := doc.Components.Headers[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("unresolved $ref %q", h.Ref)
}

// fields lists the properties of an object schema in the document's
// order, then those matched by a pattern.
func fields(s *apiSchema, in string) []docsField {
	var out []docsField
	for _, prop := range s.Properties {
		p := prop.Value
		out = append(out, docsField{Name: prop.Key, In: in, Type: typeOf(p), Required: slices.Contains(s.Required, prop.Key),
			Notes: notes(p.Description, p.Example, p)})
	}
	for _, prop := range s.PatternProperties {
		p := prop.Value
		out = append(out, docsField{Name: "names matching " + prop.Key, In: in, Type: typeOf(p), Notes: notes(p.Description, nil, p)})
	}
	return out
}

// orderedMap is a JSON object decoded with its keys in document order.
type orderedMap[V any] []struct {
	Key   string
	Value V
}

// UnmarshalJSON decodes a JSON object, keeping the order of its members.
func (m *orderedMap[V]) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("want a JSON object, got %s", b)
	}
	*m = (*m)[:0]
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v V
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("member %q: %w", key, err)
		}
		*m = append(*m, struct {
			Key   string
			Value V
		}{key, v})
	}
	_, err := dec.Token()
	return err
}

// typeOf names a schema's type, linking to a named schema.
func typeOf(s *apiSchema) docsType {
	if s == nil {
		return docsType{Text: "any"}
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		return docsType{Text: name, Link: "schema-" + name}
	}
	var t string
	switch v := s.Type.(type) {
	case string:
		t = v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		t = strings.Join(parts, " | ")
	default:
		t = "any"
	}
	if t == "array" && s.Items != nil {
		item := typeOf(s.Items)
		return docsType{Text: "array of " + item.Text, Link: item.Link}
	}
	for _, detail := range []string{s.Format, s.ContentMediaType, s.ContentEncoding} {
		if detail != "" {
			t += " (" + detail + ")"
		}
	}
	return docsType{Text: t}
}

// notes is a field's description followed by its allowed values, default
// and example.
func notes(description string, example any, s *apiSchema) template.HTML {
	var extra []string
	if s != nil {
		if len(s.Enum) > 0 {
			vals := make([]string, len(s.Enum))
			for i, v := range s.Enum {
				vals[i] = "`" + compactJSON(v) + "`"
			}
			extra = append(extra, "One of "+strings.Join(vals, ", ")+".")
		}
		if s.Const != nil {
			extra = append(extra, "Always `"+compactJSON(s.Const)+"`.")
		}
		if s.Default != nil {
			extra = append(extra, "Default `"+compactJSON(s.Default)+"`.")
		}
		if example == nil {
			example = s.Example
		}
	}
	if example != nil {
		extra = append(extra, "Example: `"+compactJSON(example)+"`.")
	}
	text := description
	if len(extra) > 0 {
		text = strings.TrimSpace(text + " " + strings.Join(extra, " "))
	}
	return inline(text)
}

func compactJSON(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func exampleText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// prose renders a description: paragraphs split by blank lines, fenced
// code blocks (```) as preformatted text, and `code` spans. Everything
// else is escaped.
func prose(text string) template.HTML {
	var b strings.Builder
	for _, block := range strings.Split(strings.TrimSpace(text), "\n\n") {
		block = strings.TrimSpace(block)
		if block == "" {
			continue
		}
		if code, ok := strings.CutPrefix(block, "```"); ok {
			code = strings.TrimSuffix(strings.TrimSuffix(code, "```"), "\n")
			code = strings.TrimPrefix(code, "\n")
			b.WriteString("<pre>" + template.HTMLEscapeString(code) + "</pre>\n")
			continue
		}
		b.WriteString("<p>" + string(inline(block)) + "</p>\n")
	}
	return template.HTML(b.String())
}

// inline escapes text and turns `code` spans into <code> elements.
func inline(text string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(text, "`") {
		esc := template.HTMLEscapeString(part)
		if i%2 == 1 {
			b.WriteString("<code>" + esc + "</code>")
		} else {
			b.WriteString(esc)
		}
	}
	return template.HTML(b.String())
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// docsTemplate is the reference page. Its style is inline: the page loads
// nothing else.
const docsTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
:root { --fg: #1d232a; --muted: #5b6670; --line: #d9dee3; --bg: #ffffff; --code: #f4f6f8; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
nav { position: fixed; top: 0; bottom: 0; left: 0; width: 250px; overflow-y: auto; padding: 20px; border-right: 1px solid var(--line); background: #fafbfc; font-size: 14px; }
nav h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 18px 0 6px; }
nav a { display: block; color: var(--fg); text-decoration: none; padding: 2px 0; }
nav a:hover { color: var(--accent); }
main { margin-left: 250px; padding: 24px 40px 80px; max-width: 1040px; }
h1 { margin: 0 0 4px; font-size: 28px; }
h2.section { margin-top: 48px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { margin: 34px 0 8px; font-size: 19px; }
h4 { margin: 18px 0 6px; font-size: 15px; color: var(--muted); }
a { color: var(--accent); }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--code); border-radius: 4px; }
code { padding: 1px 4px; }
pre { padding: 12px 14px; overflow-x: auto; white-space: pre; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
td p { margin: 0 0 4px; }
.method { display: inline-block; min-width: 56px; text-align: center; font: 600 12px/20px ui-monospace, monospace; color: #fff; border-radius: 4px; margin-right: 8px; padding: 0 6px; }
.GET { background: #2b7a3d; } .POST { background: #0b5cad; } .HEAD { background: #5b6670; }
.path { font: 600 16px ui-monospace, monospace; }
.status { font: 600 13px ui-monospace, monospace; padding: 1px 6px; border-radius: 4px; }
.s2 { background: #e3f4e7; } .s4 { background: #fdf0dc; } .s5 { background: #fbe4e4; }
.req { color: #b3261e; font-size: 12px; }
.muted { color: var(--muted); }
.op { border-top: 1px solid var(--line); }
@media (max-width: 800px) { nav { position: static; width: auto; border-right: 0; } main { margin-left: 0; padding: 16px; } }
</style>
</head>
<body>
<nav>
<strong>{{.Title}}</strong> <span class="muted">{{.Version}}</span>
{{- range .Sections}}
<h2>{{.Name}}</h2>
{{- range .Operations}}
<a href="#{{.Anchor}}"><span class="muted">{{.Method}}</span> {{.Path}}</a>
{{- end}}
{{- end}}
<h2>Schemas</h2>
{{- range .Schemas}}
<a href="#schema-{{.Name}}">{{.Name}}</a>
{{- end}}
</nav>
<main>
<h1>{{.Title}}</h1>
<p class="muted">Version {{.Version}} · <a href="/openapi.json">OpenAPI 3.1 document</a></p>
{{.Summary}}
{{.Description}}
{{- if .Security}}
<h4>Authentication</h4>
<table>
<tr><th>Scheme</th><th>Type</th><th>Description</th></tr>
{{- range .Security}}
<tr><td><code>{{.Name}}</code></td><td>{{.Kind}}</td><td>{{.Description}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- range .Sections}}
<h2 class="section" id="tag-{{.Name}}">{{.Name}}</h2>
{{.Description}}
{{- range .Operations}}
<section class="op" id="{{.Anchor}}">
<h3><span class="method {{.Method}}">{{.Method}}</span><span class="path">{{.Path}}</span></h3>
<p><strong>{{.Summary}}</strong></p>
{{.Description}}
{{- if .Auth}}
<p class="muted">Authentication: {{range $i, $a := .Auth}}{{if $i}} or {{end}}<code>{{$a}}</code>{{end}}</p>
{{- end}}
{{- if .Parameters}}
<h4>Parameters</h4>
<table>
<tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>
{{- range .Parameters}}
<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{template "type" .Type}}</td><td>{{.Notes}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- range .Bodies}}
<h4>Request body: <code>{{.MediaType}}</code> {{template "type" .Schema}}</h4>
{{- if .Fields}}
<table>
<tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{- range .Fields}}
<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{template "type" .Type}}</td><td>{{.Notes}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- end}}
<h4>Responses</h4>
<table>
<tr><th>Status</th><th>Description</th></tr>
{{- range .Responses}}
<tr><td><span class="status {{.Class}}">{{.Status}}</span></td><td>{{.Description}}
{{- range .Bodies}}<p><code>{{.MediaType}}</code> {{template "type" .Schema}}</p>{{end}}
{{- if .Headers}}<p class="muted">Headers: {{range $i, $h := .Headers}}{{if $i}}, {{end}}<code>{{$h.Name}}</code>{{end}}</p>{{end}}
{{- range .Examples}}{{if .Summary}}<p class="muted">{{.Summary}}</p>{{end}}<pre>{{.JSON}}</pre>{{end}}
</td></tr>
{{- end}}
</table>
</section>
{{- end}}
{{- end}}
<h2 class="section" id="schemas">Schemas</h2>
{{- range .Schemas}}
<section id="schema-{{.Name}}">
<h3>{{.Name}} <span class="muted">{{.Type.Text}}</span></h3>
{{.Description}}
{{- if .Fields}}
<table>
<tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{- range .Fields}}
<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{template "type" .Type}}</td><td>{{.Notes}}</td></tr>
{{- end}}
</table>
{{- end}}
</section>
{{- end}}
</main>
</body>
</html>
{{define "type"}}{{if .Link}}<a href="#{{.Link}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}
`
