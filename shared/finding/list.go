package finding

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ReaderIAMActions are exactly the DynamoDB actions an operator's command
// line needs to read the table: List's Scan and Store.Get's GetItem. No
// function calls List, so Scan stays out of IAMActions and out of every
// function's role.
var ReaderIAMActions = []string{"dynamodb:GetItem", "dynamodb:Scan"}

// ScanAPI is the part of *dynamodb.Client List uses.
type ScanAPI interface {
	Scan(ctx context.Context, params *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Filter selects the findings List returns.
type Filter struct {
	// States keeps the findings whose proposal is in one of these states.
	// Empty keeps every finding that has a proposal, in any state.
	States []State
}

// List returns the findings of the table that have a proposal matching the
// filter, newest first (last seen, then fingerprint). The filter runs in
// DynamoDB, but a Scan still reads the whole table: fine for an operator's
// occasional look at a table that TTL keeps small, and the reason no
// function calls it.
func List(ctx context.Context, api ScanAPI, table string, f Filter) ([]Finding, error) {
	names := map[string]string{"#p": "proposal"}
	expr := "attribute_exists(#p)"
	var values map[string]types.AttributeValue
	if len(f.States) > 0 {
		names["#st"] = "state"
		values = make(map[string]types.AttributeValue, len(f.States))
		ph := make([]string, 0, len(f.States))
		for i, s := range f.States {
			p := ":s" + strconv.Itoa(i)
			values[p] = str(s.String())
			ph = append(ph, p)
		}
		expr = "#p.#st IN (" + strings.Join(ph, ", ") + ")"
	}
	in := &dynamodb.ScanInput{
		TableName:                 aws.String(table),
		FilterExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		// An operator who just approved expects to see it approved.
		ConsistentRead: aws.Bool(true),
	}
	var out []Finding
	// A page stops at 1 MB read, before filtering: follow LastEvaluatedKey
	// until DynamoDB has read the whole table, even past empty pages.
	for p := dynamodb.NewScanPaginator(api, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list findings in %s: %w", table, err)
		}
		for _, av := range page.Items {
			fd, err := decode(av)
			if err != nil {
				return nil, err
			}
			out = append(out, fd)
		}
	}
	slices.SortFunc(out, func(a, b Finding) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
	return out, nil
}
