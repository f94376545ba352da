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
	msg := sprintf("unsupported inputVersion %v (supported: 1)", [object.get(input, "inputVersion", "missing")])
}

deny contains msg if {
	not kind in cfg.actions
	msg := sprintf("unknown action kind %v", [object.get(object.get(input, "action", {}), "kind", "missing")])
}

deny contains msg if {
	namespace in protected_namespaces
	msg := sprintf("namespace %q is protected: Falconer never acts there", [namespace])
}

deny contains msg if {
	kind in cfg.actions
	not namespace in protected_namespaces
	not kind in allowed_kinds_here
	msg := sprintf("action %q is not allowed in namespace %q", [kind, namespace])
}

deny contains msg if {
	is_number(input.action.podsAffected)
	input.action.podsAffected > cfg.limits.maxPodsPerAction
	msg := sprintf(
		"blast radius: %v pods affected, the limit is %v per action",
		[input.action.podsAffected, cfg.limits.maxPodsPerAction],
	)
}

deny contains msg if {
	not is_number(input.action.podsAffected)
	not kind in cfg.clusterScopedActions
	msg := sprintf("blast radius unknown: action %q must say how many pods it affects", [kind])
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
	msg := sprintf(
		"isolation limit reached: %v isolations in the last hour, the limit is %v",
		[object.get(object.get(input, "history", {}), "isolationsLastHour", "unknown"), cfg.limits.maxIsolationsPerHour],
	)
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
	msg := sprintf("%q is destructive: a human must approve it (an analysis' confidence never suffices)", [kind])
}

approval_reasons contains "four-eyes: two distinct approvers required" if four_eyes

approval_reasons contains msg if {
	not destructive
	not auto_approved
	msg := sprintf(
		"%q needs approval at incident severity %v, verdict %v, confidence %v",
		[kind, input.incident.severity, input.analysis.verdict, input.analysis.confidence],
	)
}

approval_reasons contains msg if {
	auto_approved
	msg := sprintf("%q is allowed without approval", [kind])
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
