package fix

// Change is the record of one applied fix: the state before and after it,
// so Rollback can restore exactly what was there.
type Change struct {
	Kind   Kind     `json:"kind"`
	Before Snapshot `json:"before"`
	After  Snapshot `json:"after"`
}

// Snapshot is the part of a bucket's or object's configuration a fix
// touches. Only the field of the fix's kind is set.
type Snapshot struct {
	// Ownership is the bucket's Object Ownership rule
	// (BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter), or "" when
	// the bucket had no ownership controls at all.
	Ownership string `json:"ownership,omitempty"`
	// ACL is the object's access control list.
	ACL *ACL `json:"acl,omitempty"`
	// Policy is the bucket policy text exactly as S3 returned it.
	Policy string `json:"policy,omitempty"`
}

// ACL is an owner and its grants, in S3's terms.
type ACL struct {
	OwnerID string  `json:"ownerId"`
	Grants  []Grant `json:"grants"`
}

// Grant is one ACL grant. Exactly one of ID, URI, Email identifies the
// grantee, as S3 requires for each grantee Type.
type Grant struct {
	Type       string `json:"type"`
	ID         string `json:"id,omitempty"`
	URI        string `json:"uri,omitempty"`
	Email      string `json:"email,omitempty"`
	Permission string `json:"permission"`
}
