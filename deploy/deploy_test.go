package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// cluster is one overlay's objects, decoded.
type cluster struct {
	deployments  map[string]*appsv1.Deployment
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]bool // Secrets in the build or made by an ExternalSecret
	secretKeys   map[string]map[string]bool
	jobs         []*batchv1.Job
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	pdbs         []*policyv1.PodDisruptionBudget
	policies     []*networkingv1.NetworkPolicy
	ingresses    []*networkingv1.Ingress
	secretValues int // Secrets with data written in the manifests
}

// externalSecret is the part of external-secrets.io/v1 ExternalSecret the
// overlays use, decoded as strictly as the built-in kinds.
type externalSecret struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		RefreshInterval string `json:"refreshInterval"`
		SecretStoreRef  struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"secretStoreRef"`
		Target struct {
			Name           string `json:"name"`
			CreationPolicy string `json:"creationPolicy"`
		} `json:"target"`
		Data []struct {
			SecretKey string `json:"secretKey"`
			RemoteRef struct {
				Key string `json:"key"`
			} `json:"remoteRef"`
		} `json:"data"`
	} `json:"spec"`
}

// build runs kustomize on an overlay and decodes every object strictly:
// an unknown field or kind fails the test.
func build(t *testing.T, overlay string) *cluster {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join("overlays", overlay))
	if err != nil {
		t.Fatalf("kustomize build overlays/%s: %v", overlay, err)
	}
	c := &cluster{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]bool{}, secretKeys: map[string]map[string]bool{},
	}
	for _, r := range res.Resources() {
		raw, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		gvk := r.GetGvk()
		id := fmt.Sprintf("%s %s/%s", overlay, gvk.Kind, r.GetName())
		decode := func(into any) bool {
			strictErrs, err := sigsjson.UnmarshalStrict(raw, into)
			if err != nil {
				t.Errorf("%s: %v", id, err)
				return false
			}
			for _, e := range strictErrs {
				t.Errorf("%s: %v", id, e)
			}
			return len(strictErrs) == 0
		}
		switch (schema.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}) {
		case appsv1.SchemeGroupVersion.WithKind("Deployment"):
			var d appsv1.Deployment
			if decode(&d) {
				c.deployments[d.Name] = &d
			}
		case corev1.SchemeGroupVersion.WithKind("Service"):
			var s corev1.Service
			if decode(&s) {
				c.services[s.Name] = &s
			}
		case corev1.SchemeGroupVersion.WithKind("ConfigMap"):
			var cm corev1.ConfigMap
			if decode(&cm) {
				c.configMaps[cm.Name] = &cm
			}
		case corev1.SchemeGroupVersion.WithKind("Secret"):
			var s corev1.Secret
			if decode(&s) {
				c.secrets[s.Name] = true
				c.secretKeys[s.Name] = map[string]bool{}
				for k := range s.Data {
					c.secretKeys[s.Name][k] = true
				}
				for k := range s.StringData {
					c.secretKeys[s.Name][k] = true
				}
				if len(s.Data)+len(s.StringData) > 0 {
					c.secretValues++
				}
			}
		case corev1.SchemeGroupVersion.WithKind("Namespace"):
			decode(&corev1.Namespace{})
		case corev1.SchemeGroupVersion.WithKind("ServiceAccount"):
			decode(&corev1.ServiceAccount{})
		case batchv1.SchemeGroupVersion.WithKind("Job"):
			var j batchv1.Job
			if decode(&j) {
				c.jobs = append(c.jobs, &j)
			}
		case autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"):
			var h autoscalingv2.HorizontalPodAutoscaler
			if decode(&h) {
				c.hpas = append(c.hpas, &h)
			}
		case policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"):
			var p policyv1.PodDisruptionBudget
			if decode(&p) {
				c.pdbs = append(c.pdbs, &p)
			}
		case networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"):
			var p networkingv1.NetworkPolicy
			if decode(&p) {
				c.policies = append(c.policies, &p)
			}
		case networkingv1.SchemeGroupVersion.WithKind("Ingress"):
			var i networkingv1.Ingress
			if decode(&i) {
				c.ingresses = append(c.ingresses, &i)
			}
		case schema.GroupVersionKind{Group: "external-secrets.io", Version: "v1", Kind: "ExternalSecret"}:
			var es externalSecret
			if decode(&es) {
				c.secrets[es.Spec.Target.Name] = true
				c.secretKeys[es.Spec.Target.Name] = map[string]bool{}
				for _, d := range es.Spec.Data {
					c.secretKeys[es.Spec.Target.Name][d.SecretKey] = true
				}
			}
		default:
			t.Errorf("%s: a kind this test does not know; add it with its Go type", id)
		}
	}
	return c
}

// binary is what the emporium binary says about its services: their names
// (from --services, which the one list of modules makes) and which of them
// calls which (from --upstream's help).
type binary struct {
	services []string            // every service module, without the edge
	calls    map[string][]string // service → the services it calls
}

func readBinary(t *testing.T) binary {
	t.Helper()
	bin := os.Getenv("EMPORIUM_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "emporium")
		out, err := exec.Command("go", "build", "-o", bin, "../cmd/emporium").CombinedOutput()
		if err != nil {
			t.Fatalf("go build ../cmd/emporium: %v\n%s", err, out)
		}
	}
	var help bytes.Buffer
	cmd := exec.Command(bin, "serve", "--help")
	cmd.Stderr, cmd.Env = &help, []string{}
	_ = cmd.Run() // --help exits 0 or 2 depending on the flag package; the text is what counts
	b := binary{calls: map[string][]string{}}
	lines := strings.Split(help.String(), "\n")
	for i, line := range lines {
		if i+1 >= len(lines) {
			break
		}
		usage := lines[i+1]
		switch strings.TrimSpace(line) {
		case "--services [EMPORIUM_SERVICES]":
			m := regexp.MustCompile(`this process runs: ([a-z, ]+)`).FindStringSubmatch(usage)
			if m == nil {
				t.Fatalf("serve --help: --services lists no services: %q", usage)
			}
			for _, s := range strings.Split(m[1], ", ") {
				if s = strings.TrimSpace(s); s != "edge" {
					b.services = append(b.services, s)
				}
			}
		case "--upstream [EMPORIUM_UPSTREAM]":
			for _, m := range regexp.MustCompile(`([a-z]+) calls ([a-z, ]+?)(;|\))`).FindAllStringSubmatch(usage, -1) {
				b.calls[m[1]] = strings.Split(m[2], ", ")
			}
		}
	}
	if len(b.services) == 0 || len(b.calls) == 0 {
		t.Fatalf("serve --help did not list the services and their peers:\n%s", &help)
	}
	return b
}

func TestOverlays(t *testing.T) {
	bin := readBinary(t)
	for _, overlay := range []string{"dev", "prod"} {
		t.Run(overlay, func(t *testing.T) {
			c := build(t, overlay)
			checkWorkloads(t, c)
			checkEmporium(t, c, bin)
			checkNetwork(t, c, bin)
			if overlay == "prod" && c.secretValues > 0 {
				t.Errorf("prod writes %d Secrets' values in the manifests; take them from the secret store (ExternalSecret)", c.secretValues)
			}
		})
	}
}

// checkWorkloads: every container of every workload has a pinned image,
// CPU and memory requests and limits, and (in Deployments) readiness and
// liveness probes.
func checkWorkloads(t *testing.T, c *cluster) {
	t.Helper()
	check := func(kind, name string, pod corev1.PodSpec, probes bool) {
		for _, ctr := range pod.Containers {
			id := fmt.Sprintf("%s %s container %s", kind, name, ctr.Name)
			if ref := ctr.Image; !strings.Contains(ref, "@sha256:") {
				tag := ""
				if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
					tag = ref[i+1:]
				}
				if tag == "" || tag == "latest" {
					t.Errorf("%s: image %q: pin a tag other than latest", id, ref)
				}
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, okReq := ctr.Resources.Requests[r]
				lim, okLim := ctr.Resources.Limits[r]
				if !okReq || !okLim {
					t.Errorf("%s: no %s request and limit", id, r)
				} else if req.Cmp(lim) > 0 {
					t.Errorf("%s: %s request %s above its limit %s", id, r, req.String(), lim.String())
				}
			}
			if probes && (ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil) {
				t.Errorf("%s: no readiness or liveness probe", id)
			}
		}
	}
	for name, d := range c.deployments {
		check("Deployment", name, d.Spec.Template.Spec, true)
	}
	for _, j := range c.jobs {
		check("Job", j.Name, j.Spec.Template.Spec, false)
	}
	if len(c.deployments) == 0 {
		t.Fatal("no Deployments")
	}
}

// checkEmporium: a Deployment and a Service per service, run with the
// right --services, probed over gRPC health, reaching every peer it calls
// at that peer's Service; the edge with an HPA, a PDB and the Ingress; the
// migrations Job; every ConfigMap and Secret they read exists.
func checkEmporium(t *testing.T, c *cluster, bin binary) {
	t.Helper()
	for _, name := range append(slices.Clone(bin.services), "edge") {
		d, ok := c.deployments[name]
		if !ok {
			t.Errorf("no Deployment for the %s service", name)
			continue
		}
		if _, ok := c.services[name]; !ok {
			t.Errorf("no Service for the %s service", name)
		}
		ctr := d.Spec.Template.Spec.Containers[0]
		if !slices.Contains(ctr.Args, "--services="+name) {
			t.Errorf("Deployment %s runs %v, want --services=%s", name, ctr.Args, name)
		}
		for _, p := range []*corev1.Probe{ctr.StartupProbe, ctr.ReadinessProbe, ctr.LivenessProbe} {
			if p == nil || p.GRPC == nil || p.GRPC.Port != 8080 {
				t.Errorf("Deployment %s: want startup, readiness and liveness probes on gRPC health at 8080", name)
				break
			}
		}
		env := map[string]string{}
		for _, e := range ctr.Env {
			env[e.Name] = e.Value
			if ref := e.ValueFrom; ref != nil && ref.ConfigMapKeyRef != nil {
				cm, ok := c.configMaps[ref.ConfigMapKeyRef.Name]
				if _, has := cm.Data[ref.ConfigMapKeyRef.Key]; !ok || !has {
					t.Errorf("Deployment %s: %s reads ConfigMap %s key %s, which is not there", name, e.Name, ref.ConfigMapKeyRef.Name, ref.ConfigMapKeyRef.Key)
				}
			}
			if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil && !c.secretKeys[ref.SecretKeyRef.Name][ref.SecretKeyRef.Key] {
				t.Errorf("Deployment %s: %s reads Secret %s key %s, which nothing makes", name, e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
			}
		}
		for _, from := range ctr.EnvFrom {
			if from.ConfigMapRef != nil && c.configMaps[from.ConfigMapRef.Name] == nil {
				t.Errorf("Deployment %s: reads ConfigMap %s, which is not there", name, from.ConfigMapRef.Name)
			}
			if from.SecretRef != nil && !c.secrets[from.SecretRef.Name] {
				t.Errorf("Deployment %s: reads Secret %s, which nothing makes", name, from.SecretRef.Name)
			}
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret != nil && !c.secrets[v.Secret.SecretName] {
				t.Errorf("Deployment %s: mounts Secret %s, which nothing makes", name, v.Secret.SecretName)
			}
		}
		if limit, ok := ctr.Resources.Limits[corev1.ResourceMemory]; ok {
			soft, err := resource.ParseQuantity(strings.TrimSuffix(env["GOMEMLIMIT"], "B"))
			if err != nil || soft.Cmp(limit) >= 0 {
				t.Errorf("Deployment %s: GOMEMLIMIT %q, want one below the memory limit %s", name, env["GOMEMLIMIT"], limit.String())
			}
		}
		peers := bin.calls[name]
		if name == "edge" {
			peers = bin.services
		}
		upstreams := map[string]string{}
		for _, part := range strings.Split(env["EMPORIUM_UPSTREAM"], ";") {
			if k, v, ok := strings.Cut(part, "="); ok {
				upstreams[k] = v
			}
		}
		for _, p := range peers {
			if want := "http://" + p + ":8080"; upstreams[p] != want {
				t.Errorf("Deployment %s calls %s: EMPORIUM_UPSTREAM has %s=%q, want %s", name, p, p, upstreams[p], want)
			}
		}
	}

	edge := c.deployments["edge"]
	if edge == nil {
		return
	}
	edgePods := labels.Set(edge.Spec.Template.Labels)
	hpa := false
	for _, h := range c.hpas {
		if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == "edge" {
			hpa = true
		}
	}
	if !hpa {
		t.Error("no HorizontalPodAutoscaler scales the edge")
	}
	pdb := false
	for _, p := range c.pdbs {
		if selects(t, p.Spec.Selector, edgePods) {
			pdb = true
		}
	}
	if !pdb {
		t.Error("no PodDisruptionBudget covers the edge")
	}
	if len(c.ingresses) == 0 {
		t.Error("no Ingress")
	}
	for _, ing := range c.ingresses {
		for _, rule := range ing.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				if p.Backend.Service == nil || p.Backend.Service.Name != "edge" {
					t.Errorf("Ingress %s routes %s to %v: only the edge is public", ing.Name, p.Path, p.Backend)
				}
			}
		}
	}
	migrate := false
	for _, j := range c.jobs {
		if ctr := j.Spec.Template.Spec.Containers; len(ctr) > 0 && slices.Equal(ctr[0].Args, []string{"migrate"}) {
			migrate = true
		}
	}
	if !migrate {
		t.Error("no Job runs emporium migrate")
	}
}

// checkNetwork: everything is denied by default, and a service is reachable
// by the edge and by the services that call it, and by nothing else.
func checkNetwork(t *testing.T, c *cluster, bin binary) {
	t.Helper()
	deny := false
	for _, p := range c.policies {
		if len(p.Spec.PodSelector.MatchLabels)+len(p.Spec.PodSelector.MatchExpressions) == 0 &&
			len(p.Spec.Ingress) == 0 && slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			deny = true
		}
	}
	if !deny {
		t.Error("no default-deny NetworkPolicy")
	}
	callers := map[string][]string{}
	for from, tos := range bin.calls {
		for _, to := range tos {
			callers[to] = append(callers[to], from)
		}
	}
	for _, name := range bin.services {
		d := c.deployments[name]
		if d == nil {
			continue
		}
		target := labels.Set(d.Spec.Template.Labels)
		var allowed []string
		for _, p := range c.policies {
			if !selects(t, &p.Spec.PodSelector, target) {
				continue
			}
			for _, rule := range p.Spec.Ingress {
				for _, peer := range rule.From {
					if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil {
						t.Errorf("%s: NetworkPolicy %s lets in %+v, not only Emporium's pods", name, p.Name, peer)
						continue
					}
					for other, od := range c.deployments {
						if selects(t, peer.PodSelector, labels.Set(od.Spec.Template.Labels)) && !slices.Contains(allowed, other) {
							allowed = append(allowed, other)
						}
					}
				}
			}
		}
		want := append([]string{"edge"}, callers[name]...)
		slices.Sort(want)
		slices.Sort(allowed)
		if !slices.Equal(allowed, want) {
			t.Errorf("the %s service is reachable from %v, want exactly %v (the edge and its callers)", name, allowed, want)
		}
	}
}

func selects(t *testing.T, sel *metav1.LabelSelector, set labels.Set) bool {
	t.Helper()
	ls, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("label selector %v: %v", sel, err)
	}
	return ls.Matches(set)
}
