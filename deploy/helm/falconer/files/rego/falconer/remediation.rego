# Falconer's remediation policy: may an action run, and does a human have to
# approve it first? Input: docs/policy-input.md (inputVersion 1).
# Data: data.falconer.config (falconer/data.json).
#
# The decision is the only entrypoint: falconer/remediation/decision.
package falconer.remediation

import rego.v1

cfg := data.falconer.config

supported_input_versions := {1}

severity_rank := {"low": 1, "medium": 2, "high": 3, "critical": 4}

kind := input.action.kind

# Reasons are built with concat and json.marshal, not sprintf: the Wasm
# runtime's sprintf lacks Go's verbs, and both evaluators must produce
# the same text.
q(s) := json.marshal(s)

str(x) := json.marshal(x)

namespace := input.target.namespace

# Falconer's own namespace comes from the caller's configuration.
protected_namespaces contains ns if some ns in cfg.protectedNamespaces

protected_namespaces contains ns if {
	ns := input.context.falconerNamespace
	is_string(ns)
	ns != ""
}

destructive if kind in cfg.destructiveActions

allowed_kinds_here := object.get(cfg.allowedActionsByNamespace, namespace, cfg.allowedActionsByNamespace["*"])

# --- Denials: any one refuses the action. ---

deny contains msg if {
	not input.inputVersion in supported_input_versions
	msg := concat("", ["unsupported inputVersion ", str(object.get(input, "inputVersion", "missing")), " (supported: 1)"])
}

deny contains msg if {
	not kind in cfg.actions
	msg := concat("", ["unknown action kind ", str(object.get(object.get(input, "action", {}), "kind", "missing"))])
}

deny contains msg if {
	namespace in protected_namespaces
	msg := concat("", ["namespace ", q(namespace), " is protected: Falconer never acts there"])
}

deny contains msg if {
	kind in cfg.actions
	not namespace in protected_namespaces
	not kind in allowed_kinds_here
	msg := concat("", ["action ", q(kind), " is not allowed in namespace ", q(namespace)])
}

deny contains msg if {
	is_number(input.action.podsAffected)
	input.action.podsAffected > cfg.limits.maxPodsPerAction
	msg := concat("", [
		"blast radius: ", str(input.action.podsAffected), " pods affected, the limit is ",
		str(cfg.limits.maxPodsPerAction), " per action",
	])
}

deny contains msg if {
	not is_number(input.action.podsAffected)
	not kind in cfg.clusterScopedActions
	msg := concat("", ["blast radius unknown: action ", q(kind), " must say how many pods it affects"])
}

# The caller counts its isolations of the last hour (docs/policy-input.md);
# without that count the limit cannot be checked, so isolation is refused.
under_isolation_limit if {
	n := input.history.isolationsLastHour
	is_number(n)
	n < cfg.limits.maxIsolationsPerHour
}

deny contains msg if {
	kind == "isolate-pod"
	not under_isolation_limit
	msg := concat("", [
		"isolation limit reached: ", str(object.get(object.get(input, "history", {}), "isolationsLastHour", "unknown")),
		" isolations in the last hour, the limit is ", str(cfg.limits.maxIsolationsPerHour),
	])
}

allowed if count(deny) == 0

# --- Approval. ---

# An action runs without a human only when it is harmless, or when the
# detection's own severity (not the LLM's) and the analysis agree; a
# destructive action always needs a human, whatever the confidence.
auto_approved if {
	not destructive
	kind in cfg.approval.neverNeeded
}

auto_approved if {
	not destructive
	rule := cfg.approval.auto[kind]
	severity_rank[input.incident.severity] >= severity_rank[rule.minIncidentSeverity]
	input.analysis.verdict == "true_positive"
	input.analysis.confidence >= rule.minConfidence
}

requires_approval if {
	allowed
	not auto_approved
}

approvals_required := 0 if not requires_approval

approvals_required := 2 if {
	requires_approval
	destructive
	cfg.approval.fourEyes == true
}

approvals_required := 1 if {
	requires_approval
	not four_eyes
}

four_eyes if {
	destructive
	cfg.approval.fourEyes == true
}

approval_reasons contains msg if {
	destructive
	msg := concat("", [q(kind), " is destructive: a human must approve it (an analysis' confidence never suffices)"])
}

approval_reasons contains "four-eyes: two distinct approvers required" if four_eyes

approval_reasons contains msg if {
	not destructive
	not auto_approved
	msg := concat("", [
		q(kind), " needs approval at incident severity ", str(input.incident.severity),
		", verdict ", str(input.analysis.verdict), ", confidence ", str(input.analysis.confidence),
	])
}

approval_reasons contains msg if {
	auto_approved
	msg := concat("", [q(kind), " is allowed without approval"])
}

reasons := sort([m | some m in deny]) if not allowed

reasons := sort([m | some m in approval_reasons]) if allowed

decision := {
	"allowed": allowed,
	"requiresApproval": requires_approval,
	"approvalsRequired": approvals_required,
	"reasons": reasons,
}

default allowed := false

default requires_approval := false
