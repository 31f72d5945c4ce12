package fix

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode"
)

// PolicyHash is the hash a whitespace proposal carries in PolicySHA256: the
// SHA-256 of the policy text exactly as GetBucketPolicy returned it.
func PolicyHash(policy string) string {
	sum := sha256.Sum256([]byte(policy))
	return hex.EncodeToString(sum[:])
}

// FixARNWhitespace removes the whitespace a typo put into an ARN: all of it
// before the first "/" (partition, service, region, account and bucket names
// never hold spaces) and around the ARN; an S3 key after the bucket may hold
// real spaces and keeps them. Strings that are no ARN come back unchanged.
func FixARNWhitespace(s string) string {
	t := strings.TrimSpace(s)
	head, tail, hasTail := strings.Cut(t, "/")
	head = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, head)
	if !strings.HasPrefix(head, "arn:") {
		return s
	}
	if !hasTail {
		return head
	}
	if parts := strings.SplitN(head, ":", 4); len(parts) < 3 || parts[2] != "s3" {
		// Outside S3 object keys no ARN part after the first slash holds
		// spaces either (IAM names, paths).
		tail = strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, tail)
	}
	return head + "/" + strings.TrimLeftFunc(tail, unicode.IsSpace)
}

// ErrUnsafe is returned when a change would widen access in a way denyfix
// never makes: a public grant, a removed or weakened Deny, or any other
// difference than the one its fix kind allows.
var ErrUnsafe = errors.New("unsafe change refused")

// CheckWhitespaceFix proves newPolicy differs from oldPolicy only by ARN
// whitespace removed as FixARNWhitespace does, never inside a Deny except
// where that makes the Deny match more (Resource, Principal), and never in
// an Allow to everyone.
func CheckWhitespaceFix(oldPolicy, newPolicy string) error {
	o, err := decodePolicy(oldPolicy)
	if err != nil {
		return fmt.Errorf("current policy: %w", err)
	}
	n, err := decodePolicy(newPolicy)
	if err != nil {
		return fmt.Errorf("new policy: %w", err)
	}
	for k := range union(o, n) {
		if k != "Statement" && !reflect.DeepEqual(o[k], n[k]) {
			return fmt.Errorf("%w: policy element %s changed", ErrUnsafe, k)
		}
	}
	os, ns := statements(o["Statement"]), statements(n["Statement"])
	if len(os) != len(ns) {
		return fmt.Errorf("%w: statements added or removed", ErrUnsafe)
	}
	changes := 0
	for i := range os {
		so, sn := os[i], ns[i]
		if so == nil || sn == nil {
			return fmt.Errorf("%w: statement %d is not an object", ErrUnsafe, i)
		}
		for k := range union(so, sn) {
			fixed, changed := fixStrings(so[k])
			if !reflect.DeepEqual(fixed, sn[k]) {
				return fmt.Errorf("%w: statement %d element %s differs beyond ARN whitespace", ErrUnsafe, i, k)
			}
			if changed == 0 {
				continue
			}
			changes += changed
			effect, _ := so["Effect"].(string)
			if effect != "Allow" && k != "Resource" && k != "Principal" {
				return fmt.Errorf("%w: statement %d: changing %s of a Deny would weaken it", ErrUnsafe, i, k)
			}
			if effect == "Allow" && public(so["Principal"]) {
				return fmt.Errorf("%w: statement %d allows everyone; fixing it would make the bucket public", ErrUnsafe, i)
			}
		}
	}
	if changes == 0 {
		return fmt.Errorf("%w: the policy has no ARN whitespace to fix", ErrUnsafe)
	}
	return nil
}

func decodePolicy(s string) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON policy: %w", err)
	}
	return m, nil
}

func statements(v any) []map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}
	case []any:
		out := make([]map[string]any, len(t))
		for i, s := range t {
			out[i], _ = s.(map[string]any)
		}
		return out
	}
	return nil
}

func union(a, b map[string]any) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// fixStrings applies FixARNWhitespace to every string in v and counts the
// strings it changed.
func fixStrings(v any) (any, int) {
	switch t := v.(type) {
	case string:
		f := FixARNWhitespace(t)
		if f != t {
			return f, 1
		}
		return t, 0
	case []any:
		out := make([]any, len(t))
		n := 0
		for i, e := range t {
			var c int
			out[i], c = fixStrings(e)
			n += c
		}
		return out, n
	case map[string]any:
		out := make(map[string]any, len(t))
		n := 0
		for k, e := range t {
			var c int
			out[k], c = fixStrings(e)
			n += c
		}
		return out, n
	}
	return v, 0
}

// public reports whether a Principal element names everyone.
func public(p any) bool {
	switch t := p.(type) {
	case string:
		return t == "*"
	case map[string]any:
		for _, v := range t {
			if public(v) {
				return true
			}
		}
	case []any:
		for _, v := range t {
			if public(v) {
				return true
			}
		}
	}
	return false
}

func samePolicy(a, b string) bool {
	x, err1 := decodePolicy(a)
	y, err2 := decodePolicy(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(x, y)
}

// denyChanged reports whether any statement that is not an Allow differs
// between two policies (or either is unreadable): going from one to the
// other could weaken a Deny.
func denyChanged(a, b string) bool {
	x, err1 := decodePolicy(a)
	y, err2 := decodePolicy(b)
	if err1 != nil || err2 != nil {
		return true
	}
	xs, ys := statements(x["Statement"]), statements(y["Statement"])
	if len(xs) != len(ys) {
		return true
	}
	for i := range xs {
		ex, _ := xs[i]["Effect"].(string)
		ey, _ := ys[i]["Effect"].(string)
		if (ex != "Allow" || ey != "Allow") && !reflect.DeepEqual(xs[i], ys[i]) {
			return true
		}
	}
	return false
}
