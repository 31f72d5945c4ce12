package s3probe

import (
	"context"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/s3control"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// StaticControlEndpoint resolves every S3 Control call to one URL. S3
// Control normally puts the account ID in the host name
// (123456789012.s3-control.us-east-1.amazonaws.com); a local endpoint given
// by AWS_ENDPOINT_URL (moto, LocalStack) answers only on its own host.
type StaticControlEndpoint struct {
	URL string
}

// ResolveEndpoint returns the configured URL whatever the parameters.
func (e StaticControlEndpoint) ResolveEndpoint(_ context.Context, _ s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	u, err := url.Parse(e.URL)
	if err != nil {
		return smithyendpoints.Endpoint{}, err
	}
	return smithyendpoints.Endpoint{URI: *u}, nil
}
