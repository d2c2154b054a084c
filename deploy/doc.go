// Package deploy holds Emporium's Kubernetes manifests (kustomize: base/,
// overlays/dev, overlays/prod) and, in its test, their validation: both
// overlays are built with kustomize and every object is decoded strictly
// into the Kubernetes API types. It has no code: the kustomize and
// Kubernetes modules stay out of the emporium binary.
package deploy
