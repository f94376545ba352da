/**
 * What the offline analyst knows about ATT&CK and Falco's rules: technique
 * names and tactics, Falco's `mitre_*` tactic tags in kill-chain order, and a
 * table keyed by rule name (every rule of the scenario catalogue plus common
 * official Falco rules) saying how suspicious one firing is on its own and
 * which techniques it evidences. Pure data: the scoring lives in offline.ts.
 */

/** ATT&CK tactics in kill-chain order (the index is the stage). */
export const TACTICS = [
  'reconnaissance',
  'resource_development',
  'initial_access',
  'execution',
  'persistence',
  'privilege_escalation',
  'defense_evasion',
  'credential_access',
  'discovery',
  'lateral_movement',
  'collection',
  'command_and_control',
  'exfiltration',
  'impact',
] as const;
export type Tactic = (typeof TACTICS)[number];

export const TACTIC_NAMES: Readonly<Record<Tactic, string>> = {
  reconnaissance: 'Reconnaissance',
  resource_development: 'Resource Development',
  initial_access: 'Initial Access',
  execution: 'Execution',
  persistence: 'Persistence',
  privilege_escalation: 'Privilege Escalation',
  defense_evasion: 'Defense Evasion',
  credential_access: 'Credential Access',
  discovery: 'Discovery',
  lateral_movement: 'Lateral Movement',
  collection: 'Collection',
  command_and_control: 'Command and Control',
  exfiltration: 'Exfiltration',
  impact: 'Impact',
};

/** ATT&CK tactic ids (TA####), as some Falco rules tag them. */
export const TACTIC_IDS: Readonly<Record<string, Tactic>> = {
  TA0043: 'reconnaissance',
  TA0042: 'resource_development',
  TA0001: 'initial_access',
  TA0002: 'execution',
  TA0003: 'persistence',
  TA0004: 'privilege_escalation',
  TA0005: 'defense_evasion',
  TA0006: 'credential_access',
  TA0007: 'discovery',
  TA0008: 'lateral_movement',
  TA0009: 'collection',
  TA0011: 'command_and_control',
  TA0010: 'exfiltration',
  TA0040: 'impact',
};

/** `mitre_credential_access` → `credential_access`; undefined for other tags. */
export function tacticOfTag(tag: string): Tactic | undefined {
  if (tag.startsWith('mitre_')) {
    const t = tag.slice(6);
    return (TACTICS as readonly string[]).includes(t) ? (t as Tactic) : undefined;
  }
  return TACTIC_IDS[tag];
}

export interface TechniqueInfo {
  readonly name: string;
  readonly tactic: Tactic;
}

/** ATT&CK (Enterprise, Containers matrix) techniques the analyst can name. */
export const TECHNIQUES: Readonly<Record<string, TechniqueInfo>> = {
  T1003: { name: 'OS Credential Dumping', tactic: 'credential_access' },
  'T1003.008': { name: 'OS Credential Dumping: /etc/passwd and /etc/shadow', tactic: 'credential_access' },
  T1005: { name: 'Data from Local System', tactic: 'collection' },
  T1020: { name: 'Automated Exfiltration', tactic: 'exfiltration' },
  T1021: { name: 'Remote Services', tactic: 'lateral_movement' },
  'T1021.004': { name: 'Remote Services: SSH', tactic: 'lateral_movement' },
  T1027: { name: 'Obfuscated Files or Information', tactic: 'defense_evasion' },
  T1033: { name: 'System Owner/User Discovery', tactic: 'discovery' },
  T1036: { name: 'Masquerading', tactic: 'defense_evasion' },
  T1041: { name: 'Exfiltration Over C2 Channel', tactic: 'exfiltration' },
  T1046: { name: 'Network Service Discovery', tactic: 'discovery' },
  T1048: { name: 'Exfiltration Over Alternative Protocol', tactic: 'exfiltration' },
  T1053: { name: 'Scheduled Task/Job', tactic: 'persistence' },
  'T1053.003': { name: 'Scheduled Task/Job: Cron', tactic: 'persistence' },
  T1055: { name: 'Process Injection', tactic: 'privilege_escalation' },
  T1059: { name: 'Command and Scripting Interpreter', tactic: 'execution' },
  'T1059.004': { name: 'Command and Scripting Interpreter: Unix Shell', tactic: 'execution' },
  'T1059.006': { name: 'Command and Scripting Interpreter: Python', tactic: 'execution' },
  T1068: { name: 'Exploitation for Privilege Escalation', tactic: 'privilege_escalation' },
  T1070: { name: 'Indicator Removal', tactic: 'defense_evasion' },
  'T1070.003': { name: 'Indicator Removal: Clear Command History', tactic: 'defense_evasion' },
  T1071: { name: 'Application Layer Protocol', tactic: 'command_and_control' },
  T1078: { name: 'Valid Accounts', tactic: 'initial_access' },
  T1082: { name: 'System Information Discovery', tactic: 'discovery' },
  T1083: { name: 'File and Directory Discovery', tactic: 'discovery' },
  T1095: { name: 'Non-Application Layer Protocol', tactic: 'command_and_control' },
  T1098: { name: 'Account Manipulation', tactic: 'persistence' },
  'T1098.004': { name: 'Account Manipulation: SSH Authorized Keys', tactic: 'persistence' },
  T1105: { name: 'Ingress Tool Transfer', tactic: 'command_and_control' },
  T1132: { name: 'Data Encoding', tactic: 'command_and_control' },
  T1140: { name: 'Deobfuscate/Decode Files or Information', tactic: 'defense_evasion' },
  T1190: { name: 'Exploit Public-Facing Application', tactic: 'initial_access' },
  T1222: { name: 'File and Directory Permissions Modification', tactic: 'defense_evasion' },
  T1485: { name: 'Data Destruction', tactic: 'impact' },
  T1496: { name: 'Resource Hijacking', tactic: 'impact' },
  T1505: { name: 'Server Software Component', tactic: 'persistence' },
  'T1505.003': { name: 'Server Software Component: Web Shell', tactic: 'persistence' },
  T1525: { name: 'Implant Internal Image', tactic: 'persistence' },
  T1528: { name: 'Steal Application Access Token', tactic: 'credential_access' },
  T1543: { name: 'Create or Modify System Process', tactic: 'persistence' },
  T1547: { name: 'Boot or Logon Autostart Execution', tactic: 'persistence' },
  'T1547.006': {
    name: 'Boot or Logon Autostart Execution: Kernel Modules and Extensions',
    tactic: 'persistence',
  },
  T1548: { name: 'Abuse Elevation Control Mechanism', tactic: 'privilege_escalation' },
  'T1548.001': {
    name: 'Abuse Elevation Control Mechanism: Setuid and Setgid',
    tactic: 'privilege_escalation',
  },
  T1552: { name: 'Unsecured Credentials', tactic: 'credential_access' },
  'T1552.001': { name: 'Unsecured Credentials: Credentials In Files', tactic: 'credential_access' },
  'T1552.005': { name: 'Unsecured Credentials: Cloud Instance Metadata API', tactic: 'credential_access' },
  'T1552.007': { name: 'Unsecured Credentials: Container API', tactic: 'credential_access' },
  T1555: { name: 'Credentials from Password Stores', tactic: 'credential_access' },
  T1560: { name: 'Archive Collected Data', tactic: 'collection' },
  T1565: { name: 'Data Manipulation', tactic: 'impact' },
  T1609: { name: 'Container Administration Command', tactic: 'execution' },
  T1610: { name: 'Deploy Container', tactic: 'execution' },
  T1611: { name: 'Escape to Host', tactic: 'privilege_escalation' },
  T1612: { name: 'Build Image on Host', tactic: 'defense_evasion' },
  T1613: { name: 'Container and Resource Discovery', tactic: 'discovery' },
  T1620: { name: 'Reflective Code Loading', tactic: 'defense_evasion' },
  T1622: { name: 'Debugger Evasion', tactic: 'defense_evasion' },
};

export interface RuleKnowledge {
  /** How likely one firing is malicious on its own, before context (0..1). */
  readonly weight: number;
  /** Techniques a firing evidences (besides the rule's own T#### tags). */
  readonly techniques: readonly string[];
  /** What the rule means, for the explanation. */
  readonly meaning: string;
}

const k = (weight: number, techniques: readonly string[], meaning: string): RuleKnowledge => ({
  weight,
  techniques,
  meaning,
});

/**
 * Rule name → knowledge. Weights are a security engineer's prior: rules that
 * are near-certain compromise (miners, release_agent, reverse shells) high;
 * rules that fire all day on healthy clusters (interpreted network activity,
 * root containers) low. Unknown rules fall back to a prior by priority.
 */
export const RULE_KNOWLEDGE: Readonly<Record<string, RuleKnowledge>> = {
  // falco_rules.yaml (stable)
  'Terminal shell in container': k(0.2, ['T1059.004'], 'an interactive shell with a terminal in a container'),
  'Run shell untrusted': k(0.2, ['T1059.004'], 'a shell spawned by a program that normally never starts one'),
  'Read sensitive file untrusted': k(
    0.45,
    ['T1555'],
    'a sensitive file (shadow, PAM, sudoers) read by a non-trusted program',
  ),
  'Read sensitive file trusted after startup': k(
    0.3,
    ['T1555'],
    'a sensitive file read by a trusted program after its startup',
  ),
  'Contact K8S API Server From Container': k(
    0.1,
    ['T1613'],
    'a container talking to the Kubernetes API server',
  ),
  'Netcat Remote Code Execution in Container': k(
    0.75,
    ['T1059', 'T1095'],
    'netcat run with options that give a remote shell',
  ),
  'Search Private Keys or Passwords': k(
    0.35,
    ['T1552.001'],
    'a search of the filesystem for private keys or passwords',
  ),
  'Redirect STDOUT/STDIN to Network Connection in Container': k(
    0.6,
    ['T1059.004', 'T1095'],
    "a process's standard input/output redirected to a network socket (the signature of a reverse shell)",
  ),
  'Debugfs Launched in Privileged Container': k(
    0.6,
    ['T1611'],
    'debugfs (raw access to the host disk) run in a privileged container',
  ),
  'Detect release_agent File Container Escapes': k(
    0.9,
    ['T1611'],
    'a write to a cgroup release_agent file (a container escape technique)',
  ),
  'Find AWS Credentials': k(0.5, ['T1552.001'], 'a search for AWS credential files or keys'),
  'Execution from /dev/shm': k(
    0.5,
    ['T1059.004'],
    'a program executed from /dev/shm (memory-backed, a favourite drop location)',
  ),
  'Drop and execute new binary in container': k(
    0.5,
    ['T1105'],
    'a binary that is not part of the image was written and executed (container drift)',
  ),
  'Disallowed SSH Connection Non Standard Port': k(
    0.4,
    ['T1021.004'],
    'an outbound SSH connection on a non-standard port',
  ),
  'Clear Log Activities': k(0.5, ['T1070'], 'log files truncated or cleared'),
  'Delete or rename shell history': k(0.5, ['T1070.003'], 'shell history deleted or renamed'),
  'Create Symlink Over Sensitive Files': k(0.5, ['T1555'], 'a symlink created over a sensitive file'),
  'Create Hardlink Over Sensitive Files': k(0.5, ['T1555'], 'a hardlink created over a sensitive file'),
  'Directory traversal monitored file read': k(
    0.6,
    ['T1555'],
    'a sensitive file read through a directory traversal',
  ),
  'Linux Kernel Module Injection Detected': k(0.7, ['T1547.006'], 'a kernel module loaded from a container'),
  'PTRACE attached to process': k(0.55, ['T1055'], 'ptrace attached to another process (injection)'),
  'PTRACE anti-debug attempt': k(0.5, ['T1622'], 'a process tried to stop being debugged'),
  'Fileless execution via memfd_create': k(
    0.7,
    ['T1620'],
    'a program executed from an anonymous memory file (fileless)',
  ),
  'Packet socket created in container': k(
    0.45,
    ['T1046'],
    'a raw packet socket opened in a container (sniffing, spoofing)',
  ),
  'Remove Bulk Data from Disk': k(0.55, ['T1485'], 'bulk data removed from disk'),
  'Polkit Local Privilege Escalation Vulnerability (CVE-2021-4034)': k(
    0.85,
    ['T1068'],
    'pkexec exploited (CVE-2021-4034)',
  ),
  'Java Process Class File Download': k(
    0.6,
    ['T1105'],
    'a Java process downloaded a class file (Log4Shell-style exploitation)',
  ),
  'System user interactive': k(0.45, ['T1078'], 'a system account used interactively'),
  // falco-incubating_rules.yaml
  'DB program spawned process': k(
    0.35,
    ['T1190'],
    'a database server spawned a process other than itself (SQL injection, COPY ... TO PROGRAM)',
  ),
  'Change thread namespace': k(
    0.4,
    ['T1611'],
    'a program changed namespace (setns), e.g. nsenter into the host',
  ),
  'Change namespace privileges via unshare': k(
    0.45,
    ['T1611'],
    'a new user namespace created with unshare (a step of several escapes)',
  ),
  'Launch Privileged Container': k(0.15, ['T1610'], 'a privileged container started'),
  'Unexpected UDP Traffic': k(0.1, ['T1095'], 'UDP traffic on a port the workload does not normally use'),
  'Contact EC2 Instance Metadata Service From Container': k(
    0.3,
    ['T1552.005'],
    'a container contacted the EC2 instance metadata service',
  ),
  'Contact cloud metadata service from container': k(
    0.25,
    ['T1552.005'],
    'a container contacted the cloud metadata service',
  ),
  'Launch Package Management Process in Container': k(
    0.3,
    ['T1105'],
    'a package manager run in a running container',
  ),
  'Launch Suspicious Network Tool in Container': k(
    0.3,
    ['T1046'],
    'a network tool (nc, nmap, dig, tcpdump) run in a container',
  ),
  'Launch Remote File Copy Tools in Container': k(
    0.3,
    ['T1105'],
    'a remote file copy tool (scp, rsync, sftp) run in a container',
  ),
  'Network Connection outside Local Subnet': k(
    0.1,
    ['T1071'],
    'a network connection to an address outside the local subnet',
  ),
  'Mount Launched in Privileged Container': k(0.35, ['T1611'], 'mount run in a privileged container'),
  'Launch Ingress Remote File Copy Tools in Container': k(
    0.35,
    ['T1105'],
    'a download tool (curl, wget) run in a container',
  ),
  'Read environment variable from /proc files': k(
    0.3,
    ['T1083', 'T1552'],
    "a process read another process's environment from /proc (secrets live there)",
  ),
  'Exfiltrating Artifacts via Kubernetes Control Plane': k(
    0.3,
    ['T1048'],
    'files streamed out of a container through the Kubernetes API (kubectl cp)',
  ),
  'Adding ssh keys to authorized_keys': k(0.6, ['T1098.004'], 'an SSH key added to authorized_keys'),
  'Schedule Cron Jobs': k(0.35, ['T1053.003'], 'a cron job scheduled'),
  'Set Setuid or Setgid bit': k(0.4, ['T1548.001'], 'a setuid or setgid bit set'),
  'BPF Program Not Profiled': k(0.5, ['T1547.006'], 'a BPF program loaded by an unexpected process'),
  'Outbound Connection to C2 Servers': k(
    0.85,
    ['T1071'],
    'a connection to a known command-and-control server',
  ),
  'Launch Disallowed Container': k(0.4, ['T1610'], 'a container from an image outside the allowed list'),
  'Read ssh information': k(0.35, ['T1552.001'], 'SSH keys or configuration read by a non-SSH program'),
  // falco-sandbox_rules.yaml
  'Write below binary dir': k(0.4, ['T1543'], 'a file written below a system binary directory'),
  'Write below etc': k(0.35, ['T1543'], 'a file written below /etc'),
  'Modify binary dirs': k(0.4, ['T1543'], 'a system binary directory modified'),
  'Interpreted procs inbound network activity': k(
    0.05,
    ['T1071'],
    'an interpreter (python, node, ruby...) accepted network traffic',
  ),
  'Interpreted procs outbound network activity': k(
    0.05,
    ['T1071'],
    'an interpreter (python, node, ruby...) made an outbound connection',
  ),
  'Detect outbound connections to common miner pool ports': k(
    0.8,
    ['T1496'],
    'an outbound connection to a port used by cryptocurrency mining pools',
  ),
  'Detect crypto miners using the Stratum protocol': k(
    0.85,
    ['T1496'],
    'a process using the Stratum mining protocol',
  ),
  'Kubernetes Client Tool Launched in Container': k(
    0.45,
    ['T1609', 'T1613'],
    'a Kubernetes or container client (kubectl, crictl, docker) run inside a container',
  ),
  'Container Drift Detected (chmod)': k(
    0.4,
    ['T1222'],
    'a file made executable in a running container (drift)',
  ),
  'Container Drift Detected (open+create)': k(
    0.4,
    ['T1105'],
    'a new executable created in a running container (drift)',
  ),
  'Container Run as Root User': k(0.03, [], 'a container running as root'),
  'Decoding Payload in Container': k(0.3, ['T1140'], 'a payload decoded (base64 -d) in a container'),
  'Basic Interactive Reconnaissance': k(
    0.25,
    ['T1033', 'T1082'],
    'reconnaissance commands (id, whoami, uname) in a container',
  ),
  'Known Cryptominer Process Executed': k(0.9, ['T1496'], 'a known cryptominer binary executed'),
  'Web Server Spawned Shell': k(
    0.7,
    ['T1505.003', 'T1190'],
    'a web server spawned a shell (web shell or exploited application)',
  ),
  'Web Server Spawned Suspicious Child Process': k(
    0.45,
    ['T1190'],
    'a web server spawned a suspicious child process',
  ),
  'Reverse Shell from Web Server': k(
    0.85,
    ['T1059.004', 'T1190'],
    'a reverse shell started from a web server process',
  ),
  'Container Access to Host Sensitive Paths': k(
    0.35,
    ['T1611'],
    "a container accessed the host's filesystem",
  ),
  // k8s_audit_rules (legacy)
  'Attach/Exec Pod': k(0.2, ['T1609'], 'someone attached or exec-ed into a pod through the API'),
  'Create Privileged Pod': k(0.4, ['T1610'], 'a pod with a privileged container was created'),
  'Create HostNetwork Pod': k(0.3, ['T1610'], 'a pod using the host network was created'),
  'Create Sensitive Mount Pod': k(
    0.45,
    ['T1610', 'T1611'],
    'a pod mounting sensitive host paths was created',
  ),
  'Pod Created in Kube Namespace': k(0.3, ['T1610'], 'a pod was created in a kube-system namespace'),
  'K8s Secret Get Successfully': k(0.15, ['T1552.007'], 'a Secret was read through the Kubernetes API'),
  'K8s Deployment Created': k(0.02, [], 'a Deployment was created'),
  'K8s Service Created': k(0.02, [], 'a Service was created'),
  'K8s ConfigMap Created': k(0.02, [], 'a ConfigMap was created'),
  'K8s Namespace Created': k(0.02, [], 'a Namespace was created'),
  'K8s Secret Created': k(0.05, [], 'a Secret was created'),
  'EphemeralContainers Created': k(0.2, ['T1609'], 'an ephemeral (debug) container was added to a pod'),
  'Create Disallowed Pod': k(0.4, ['T1610'], 'a pod with an image outside the allowed list was created'),
  'Attach to cluster-admin Role': k(0.5, ['T1098'], 'a subject was bound to cluster-admin'),
  'ClusterRole With Wildcard Created': k(
    0.35,
    ['T1098'],
    'a ClusterRole with wildcard permissions was created',
  ),
  'ClusterRole With Pod Exec Created': k(0.35, ['T1098'], 'a ClusterRole allowing pod exec was created'),
  'Anonymous Request Allowed': k(0.5, ['T1078'], 'an anonymous request to the API server was allowed'),
};

/** Prior weight of a rule the table does not know, by Falco priority level (0 Emergency … 7 Debug). */
export function priorWeight(priorityLevel: number): number {
  return [0.7, 0.65, 0.5, 0.35, 0.25, 0.15, 0.05, 0.02][priorityLevel] ?? 0.05;
}
