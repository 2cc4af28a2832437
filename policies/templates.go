package policies

import (
	"cmp"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
)

//go:embed model.conf
var modelText string

//go:embed roles.csv
var rolesCSV string

// Objects are the modules a permission names, in display order. Read-only.
var Objects = []string{"mall", "docking", "warehouse", "logistics", "finance", "admin"}

// Actions are what a permission allows on a module, in display order. Read-only.
var Actions = []string{"read", "write", "approve"}

// Owner is the role that can never be edited or deleted, and that every
// tenant keeps at least one member in.
const Owner = "owner"

// descriptions of the templates in roles.csv; a template without one is a
// build error caught by the tests.
var descriptions = map[string]string{
	"owner":           "Owns the tenant: every permission on every module. Cannot be edited or deleted; a tenant always has at least one owner.",
	"admin":           "Tenant administrator: every permission on every module, including members, roles and policies.",
	"store_manager":   "Runs the brand store: manages and approves catalog, prices and orders; reads warehouse, logistics, finance and docking.",
	"warehouse_clerk": "Manages stock, receipts and purchase orders; reads the mall and logistics.",
	"logistics_clerk": "Manages shipments, tracking and customs; reads warehouse and mall.",
	"accountant":      "Keeps the ledger: reads, writes and approves finance; reads the mall.",
	"integrator":      "Connects external systems through docking; reads mall, warehouse and finance.",
	"viewer":          "Read-only access to every module except administration.",
}

// Template is a default role copied into every tenant.
type Template struct {
	Name        string
	Description string
	Permissions []Permission
}

// Templates returns the default roles in display order.
func Templates() []Template {
	out := make([]Template, len(templates))
	for i, t := range templates {
		out[i] = Template{Name: t.Name, Description: t.Description, Permissions: slices.Clone(t.Permissions)}
	}
	return out
}

var templates = mustParseTemplates(rolesCSV)

func mustParseTemplates(text string) []Template {
	ts, err := parseTemplates(text)
	if err != nil {
		panic(err)
	}
	return ts
}

// parseTemplates reads roles.csv: lines "role,object,action", "*" for every
// object or action, "#" comments.
func parseTemplates(text string) ([]Template, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.FieldsPerRecord = 3
	r.TrimLeadingSpace = true
	var out []Template
	index := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("policies: roles.csv: %w", err)
		}
		name, obj, act := rec[0], rec[1], rec[2]
		if !nameRE.MatchString(name) {
			return nil, fmt.Errorf("policies: roles.csv: bad role name %q", name)
		}
		objs, acts := []string{obj}, []string{act}
		if obj == "*" {
			objs = Objects
		} else if !slices.Contains(Objects, obj) {
			return nil, fmt.Errorf("policies: roles.csv: %s: unknown object %q", name, obj)
		}
		if act == "*" {
			acts = Actions
		} else if !slices.Contains(Actions, act) {
			return nil, fmt.Errorf("policies: roles.csv: %s: unknown action %q", name, act)
		}
		i, ok := index[name]
		if !ok {
			desc, ok := descriptions[name]
			if !ok {
				return nil, fmt.Errorf("policies: roles.csv: role %q has no description", name)
			}
			i = len(out)
			index[name] = i
			out = append(out, Template{Name: name, Description: desc})
		}
		for _, o := range objs {
			for _, a := range acts {
				p := Permission{Object: o, Action: a}
				if !slices.Contains(out[i].Permissions, p) {
					out[i].Permissions = append(out[i].Permissions, p)
				}
			}
		}
	}
	if _, ok := index[Owner]; !ok {
		return nil, fmt.Errorf("policies: roles.csv: no %s role", Owner)
	}
	for i := range out {
		sortPermissions(out[i].Permissions)
	}
	return out, nil
}

// sortPermissions orders permissions by module, then action, in display order.
func sortPermissions(ps []Permission) { slices.SortFunc(ps, comparePermissions) }

func comparePermissions(a, b Permission) int {
	if c := cmp.Compare(slices.Index(Objects, a.Object), slices.Index(Objects, b.Object)); c != 0 {
		return c
	}
	return cmp.Compare(slices.Index(Actions, a.Action), slices.Index(Actions, b.Action))
}
