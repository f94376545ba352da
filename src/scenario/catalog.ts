/**
 * The Falco rules the scenario emits, copied verbatim (name, priority, tags,
 * source, output format) from the official rule files in ../shared/data/falco/rules
 * (falcosecurity/rules @c72713ee; k8s_audit_rules_legacy.yaml from falcosecurity/falco
 * @298913471c7d). test/unit/scenario-catalog.test.ts checks every entry against
 * those files, so a drift is caught; the generator itself never reads them.
 *
 * `priority` is spelled as Falco prints it in an alert (INFO → Informational).
 */
import type { Priority } from '../events/types.ts';

export type RuleFile =
  | 'falco_rules.yaml'
  | 'falco-incubating_rules.yaml'
  | 'falco-sandbox_rules.yaml'
  | 'k8s_audit_rules_legacy.yaml';

export type RuleSource = 'syscall' | 'k8s_audit';

export interface CatalogRule {
  readonly name: string;
  readonly file: RuleFile;
  readonly source: RuleSource;
  readonly priority: Priority;
  readonly tags: readonly string[];
  /** The rule's `output`, verbatim (trimmed as Falco trims it). */
  readonly output: string;
}

/**
 * Falco ≥ 0.41's default falco.yaml appends the container and Kubernetes
 * identity to every syscall rule (`append_output`, match source: syscall), since
 * the rules themselves no longer carry `%container.info`. Falco joins it to the
 * rule's output with one space, so its fields appear in output and output_fields.
 */
export const SYSCALL_APPEND_OUTPUT =
  'container_id=%container.id container_name=%container.name container_image_repository=%container.image.repository container_image_tag=%container.image.tag k8s_pod_name=%k8s.pod.name k8s_ns_name=%k8s.ns.name';

export const RULES = {
  terminalShell: {
    name: 'Terminal shell in container',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_stable', 'container', 'shell', 'mitre_execution', 'T1059'],
    output:
      'A shell was spawned in a container with an attached terminal | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  runShellUntrusted: {
    name: 'Run shell untrusted',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_stable', 'host', 'container', 'process', 'shell', 'mitre_execution', 'T1059.004'],
    output:
      'Shell spawned by untrusted binary | parent_exe=%proc.pexe parent_exepath=%proc.pexepath pcmdline=%proc.pcmdline gparent=%proc.aname[2] ggparent=%proc.aname[3] aname[4]=%proc.aname[4] aname[5]=%proc.aname[5] aname[6]=%proc.aname[6] aname[7]=%proc.aname[7] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  readSensitiveUntrusted: {
    name: 'Read sensitive file untrusted',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_stable', 'host', 'container', 'filesystem', 'mitre_credential_access', 'T1555'],
    output:
      'Sensitive file opened for reading by non-trusted program | file=%fd.name gparent=%proc.aname[2] ggparent=%proc.aname[3] gggparent=%proc.aname[4] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  contactK8sApi: {
    name: 'Contact K8S API Server From Container',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_stable', 'container', 'network', 'k8s', 'mitre_discovery', 'T1565'],
    output:
      'Unexpected connection to K8s API Server from container | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  netcatRce: {
    name: 'Netcat Remote Code Execution in Container',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_stable', 'container', 'network', 'process', 'mitre_execution', 'T1059'],
    output:
      'Netcat runs inside container that allows remote code execution | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  searchPrivateKeys: {
    name: 'Search Private Keys or Passwords',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: [
      'maturity_stable',
      'host',
      'container',
      'process',
      'filesystem',
      'mitre_credential_access',
      'T1552.001',
    ],
    output:
      'Grep private keys or passwords activities found | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  redirectStdio: {
    name: 'Redirect STDOUT/STDIN to Network Connection in Container',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_stable', 'container', 'network', 'process', 'mitre_execution', 'T1059'],
    output:
      'Redirect stdout/stdin to network connection | gparent=%proc.aname[2] ggparent=%proc.aname[3] gggparent=%proc.aname[4] fd.sip=%fd.sip connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  debugfsPrivileged: {
    name: 'Debugfs Launched in Privileged Container',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_stable', 'container', 'cis', 'process', 'mitre_privilege_escalation', 'T1611'],
    output:
      'Debugfs launched started in a privileged container | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  releaseAgent: {
    name: 'Detect release_agent File Container Escapes',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Critical',
    tags: ['maturity_stable', 'container', 'process', 'mitre_privilege_escalation', 'T1611'],
    output:
      'Detect an attempt to exploit a container escape using release_agent file | file=%fd.name cap_effective=%thread.cap_effective evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  findAwsCredentials: {
    name: 'Find AWS Credentials',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_stable', 'host', 'container', 'process', 'aws', 'mitre_credential_access', 'T1552'],
    output:
      'Detected AWS credentials search activity | proc_pcmdline=%proc.pcmdline proc_cwd=%proc.cwd group_gid=%group.gid group_name=%group.name user_loginname=%user.loginname evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  execFromDevShm: {
    name: 'Execution from /dev/shm',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_stable', 'host', 'container', 'mitre_execution', 'T1059.004'],
    output:
      'File execution detected from /dev/shm | evt_res=%evt.res file=%fd.name proc_cwd=%proc.cwd proc_pcmdline=%proc.pcmdline user_loginname=%user.loginname group_gid=%group.gid group_name=%group.name evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  dropAndExecute: {
    name: 'Drop and execute new binary in container',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Critical',
    tags: ['maturity_stable', 'container', 'process', 'mitre_persistence', 'TA0003', 'PCI_DSS_11.5.1'],
    output:
      'Executing binary not part of base image | proc_exe=%proc.exe proc_sname=%proc.sname gparent=%proc.aname[2] proc_exe_ino_ctime=%proc.exe_ino.ctime proc_exe_ino_mtime=%proc.exe_ino.mtime proc_exe_ino_ctime_duration_proc_start=%proc.exe_ino.ctime_duration_proc_start proc_cwd=%proc.cwd container_start_ts=%container.start_ts evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  sshNonStandardPort: {
    name: 'Disallowed SSH Connection Non Standard Port',
    file: 'falco_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_stable', 'host', 'container', 'network', 'process', 'mitre_execution', 'T1059'],
    output:
      'Disallowed SSH Connection | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  dbSpawnedProcess: {
    name: 'DB program spawned process',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'host', 'container', 'process', 'database', 'mitre_execution', 'T1190'],
    output:
      'Database-related program spawned process other than itself | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  changeThreadNamespace: {
    name: 'Change thread namespace',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'host', 'container', 'process', 'mitre_privilege_escalation', 'T1611'],
    output:
      'Namespace change (setns) by unexpected program | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  unshareNamespace: {
    name: 'Change namespace privileges via unshare',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'container', 'mitre_privilege_escalation', 'T1611'],
    output:
      'Change namespace privileges via unshare | res=%evt.res evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  launchPrivileged: {
    name: 'Launch Privileged Container',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Informational',
    tags: ['maturity_incubating', 'container', 'cis', 'mitre_execution', 'T1610', 'PCI_DSS_10.2.5'],
    output:
      'Privileged container started | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  unexpectedUdp: {
    name: 'Unexpected UDP Traffic',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'host', 'container', 'network', 'mitre_exfiltration', 'TA0011'],
    output:
      'Unexpected UDP Traffic Seen | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  ec2Metadata: {
    name: 'Contact EC2 Instance Metadata Service From Container',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'network', 'aws', 'container', 'mitre_credential_access', 'T1552.005'],
    output:
      'Outbound connection to EC2 instance metadata service | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  cloudMetadata: {
    name: 'Contact cloud metadata service from container',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'network', 'container', 'mitre_discovery', 'T1565'],
    output:
      'Outbound connection to cloud instance metadata service | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  packageMgmt: {
    name: 'Launch Package Management Process in Container',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Error',
    tags: ['maturity_incubating', 'container', 'process', 'software_mgmt', 'mitre_persistence', 'T1505'],
    output:
      'Package management process launched in container | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  networkTool: {
    name: 'Launch Suspicious Network Tool in Container',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'container', 'network', 'process', 'mitre_execution', 'T1059'],
    output:
      'Network tool launched in container | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  remoteFileCopy: {
    name: 'Launch Remote File Copy Tools in Container',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'container', 'network', 'process', 'mitre_exfiltration', 'T1020'],
    output:
      'Remote file copy tool launched in container | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  outsideLocalSubnet: {
    name: 'Network Connection outside Local Subnet',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_incubating', 'container', 'network', 'mitre_discovery', 'T1046', 'PCI_DSS_6.4.2'],
    output:
      'Network connection outside local subnet | fd_rip_name=%fd.rip.name fd_lip_name=%fd.lip.name fd_cip_name=%fd.cip.name fd_sip_name=%fd.sip.name connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  mountPrivileged: {
    name: 'Mount Launched in Privileged Container',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_incubating', 'container', 'cis', 'filesystem', 'mitre_privilege_escalation', 'T1611'],
    output:
      'Mount was executed inside a privileged container | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  ingressRemoteCopy: {
    name: 'Launch Ingress Remote File Copy Tools in Container',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'container', 'network', 'process', 'mitre_command_and_control', 'TA0011'],
    output:
      'Ingress remote file copy tool launched in container | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  procEnviron: {
    name: 'Read environment variable from /proc files',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_incubating', 'container', 'filesystem', 'process', 'mitre_discovery', 'T1083'],
    output:
      'Environment variables were retrieved from /proc files | file=%fd.name gparent=%proc.aname[2] ggparent=%proc.aname[3] gggparent=%proc.aname[4] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  kubectlCpExfil: {
    name: 'Exfiltrating Artifacts via Kubernetes Control Plane',
    file: 'falco-incubating_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_incubating', 'container', 'filesystem', 'mitre_exfiltration', 'TA0010'],
    output:
      'Exfiltrating Artifacts via Kubernetes Control Plane | file=%fd.name evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  writeBinaryDir: {
    name: 'Write below binary dir',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Error',
    tags: ['maturity_sandbox', 'host', 'container', 'filesystem', 'mitre_persistence', 'T1543'],
    output:
      'File below a known binary directory opened for writing | file=%fd.name pcmdline=%proc.pcmdline gparent=%proc.aname[2] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  interpretedInbound: {
    name: 'Interpreted procs inbound network activity',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_sandbox', 'host', 'container', 'network', 'mitre_exfiltration', 'TA0011'],
    output:
      'Interpreted program received/listened for network traffic | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  interpretedOutbound: {
    name: 'Interpreted procs outbound network activity',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_sandbox', 'host', 'container', 'network', 'mitre_exfiltration', 'TA0011'],
    output:
      'Interpreted program performed outgoing network connection | connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  minerPoolPorts: {
    name: 'Detect outbound connections to common miner pool ports',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Critical',
    tags: ['maturity_sandbox', 'host', 'container', 'network', 'mitre_impact', 'T1496'],
    output:
      'Outbound connection to IP/Port flagged by https://cryptoioc.ch | ip=%fd.rip connection=%fd.name lport=%fd.lport rport=%fd.rport fd_type=%fd.type fd_proto=%fd.l4proto evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  stratum: {
    name: 'Detect crypto miners using the Stratum protocol',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Critical',
    tags: ['maturity_sandbox', 'host', 'container', 'process', 'mitre_impact', 'T1496'],
    output:
      'Possible miner running | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  k8sClientTool: {
    name: 'Kubernetes Client Tool Launched in Container',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_sandbox', 'container', 'mitre_execution', 'T1610'],
    output:
      'Kubernetes Client Tool Launched in Container | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  driftChmod: {
    name: 'Container Drift Detected (chmod)',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Error',
    tags: ['maturity_sandbox', 'container', 'process', 'filesystem', 'mitre_execution', 'T1059'],
    output:
      'Drift detected (chmod), new executable created in a container | filename=%evt.arg.filename name=%evt.arg.name mode=%evt.arg.mode evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  driftOpenCreate: {
    name: 'Container Drift Detected (open+create)',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Error',
    tags: ['maturity_sandbox', 'container', 'process', 'filesystem', 'mitre_execution', 'T1059'],
    output:
      'Drift detected (open+create), new executable created in a container | filename=%evt.arg.filename name=%evt.arg.name mode=%evt.arg.mode evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  runAsRoot: {
    name: 'Container Run as Root User',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Informational',
    tags: ['maturity_sandbox', 'container', 'process', 'users', 'mitre_execution', 'T1610'],
    output:
      'Container launched with root user privilege | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  decodingPayload: {
    name: 'Decoding Payload in Container',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Informational',
    tags: ['maturity_sandbox', 'container', 'process', 'mitre_command_and_control', 'T1132'],
    output:
      'Decoding Payload in Container | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  interactiveRecon: {
    name: 'Basic Interactive Reconnaissance',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Notice',
    tags: ['maturity_sandbox', 'host', 'container', 'process', 'mitre_reconnaissance', 'TA0043'],
    output:
      'Basic Interactive Reconnaissance | evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  knownMiner: {
    name: 'Known Cryptominer Process Executed',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Critical',
    tags: ['maturity_sandbox', 'host', 'container', 'process', 'mitre_impact', 'T1496'],
    output:
      'Cryptominer process executed | process=%proc.name exe=%proc.exepath evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid parent=%proc.pname command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  webServerShell: {
    name: 'Web Server Spawned Shell',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Critical',
    tags: [
      'maturity_sandbox',
      'host',
      'container',
      'process',
      'mitre_persistence',
      'mitre_execution',
      'T1505.003',
    ],
    output:
      'Web server spawned shell | shell=%proc.name web_server=%proc.pname gparent=%proc.aname[2] ggparent=%proc.aname[3] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid command=%proc.cmdline terminal=%proc.tty exe=%proc.exepath exe_flags=%evt.arg.flags',
  },
  webServerChild: {
    name: 'Web Server Spawned Suspicious Child Process',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_sandbox', 'host', 'container', 'process', 'mitre_execution', 'T1059'],
    output:
      'Web server spawned suspicious child process | child=%proc.name web_server=%proc.pname gparent=%proc.aname[2] evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  webServerReverseShell: {
    name: 'Reverse Shell from Web Server',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Critical',
    tags: ['maturity_sandbox', 'host', 'container', 'process', 'network', 'mitre_execution', 'T1059'],
    output:
      'Reverse shell spawned from web server | process=%proc.name web_server=%proc.pname evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid command=%proc.cmdline terminal=%proc.tty exe_flags=%evt.arg.flags',
  },
  hostSensitivePaths: {
    name: 'Container Access to Host Sensitive Paths',
    file: 'falco-sandbox_rules.yaml',
    source: 'syscall',
    priority: 'Warning',
    tags: ['maturity_sandbox', 'container', 'filesystem', 'mitre_privilege_escalation', 'T1611'],
    output:
      'Container accessing host filesystem paths | file=%fd.name evt_type=%evt.type user=%user.name user_uid=%user.uid user_loginuid=%user.loginuid process=%proc.name proc_exepath=%proc.exepath parent=%proc.pname command=%proc.cmdline terminal=%proc.tty',
  },
  auditExec: {
    name: 'Attach/Exec Pod',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Notice',
    tags: ['k8s'],
    output:
      'Attach/Exec to pod (user=%ka.user.name pod=%ka.target.name ns=%ka.target.namespace action=%ka.target.subresource command=%ka.uri.param[command])',
  },
  auditPrivilegedPod: {
    name: 'Create Privileged Pod',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Warning',
    tags: ['k8s'],
    output:
      'Pod started with privileged container (user=%ka.user.name pod=%ka.resp.name ns=%ka.target.namespace images=%ka.req.pod.containers.image)',
  },
  auditHostNetworkPod: {
    name: 'Create HostNetwork Pod',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Warning',
    tags: ['k8s'],
    output:
      'Pod started using host network (user=%ka.user.name pod=%ka.resp.name ns=%ka.target.namespace images=%ka.req.pod.containers.image)',
  },
  auditSensitiveMountPod: {
    name: 'Create Sensitive Mount Pod',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Warning',
    tags: ['k8s'],
    output:
      'Pod started with sensitive mount (user=%ka.user.name pod=%ka.resp.name ns=%ka.target.namespace images=%ka.req.pod.containers.image volumes=%jevt.value[/requestObject/spec/volumes])',
  },
  auditKubeNamespacePod: {
    name: 'Pod Created in Kube Namespace',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Warning',
    tags: ['k8s'],
    output:
      'Pod created in kube namespace (user=%ka.user.name pod=%ka.resp.name ns=%ka.target.namespace images=%ka.req.pod.containers.image)',
  },
  auditSecretGet: {
    name: 'K8s Secret Get Successfully',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Error',
    tags: ['k8s'],
    output:
      'K8s Secret Get Successfully (user=%ka.user.name secret=%ka.target.name ns=%ka.target.namespace resp=%ka.response.code decision=%ka.auth.decision reason=%ka.auth.reason)',
  },
  auditDeploymentCreated: {
    name: 'K8s Deployment Created',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Informational',
    tags: ['k8s'],
    output:
      'K8s Deployment Created (user=%ka.user.name deployment=%ka.target.name ns=%ka.target.namespace resp=%ka.response.code decision=%ka.auth.decision reason=%ka.auth.reason)',
  },
  auditServiceCreated: {
    name: 'K8s Service Created',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Informational',
    tags: ['k8s'],
    output:
      'K8s Service Created (user=%ka.user.name service=%ka.target.name ns=%ka.target.namespace resp=%ka.response.code decision=%ka.auth.decision reason=%ka.auth.reason)',
  },
  auditConfigMapCreated: {
    name: 'K8s ConfigMap Created',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Informational',
    tags: ['k8s'],
    output:
      'K8s ConfigMap Created (user=%ka.user.name configmap=%ka.target.name ns=%ka.target.namespace resp=%ka.response.code decision=%ka.auth.decision reason=%ka.auth.reason)',
  },
  auditNamespaceCreated: {
    name: 'K8s Namespace Created',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Informational',
    tags: ['k8s'],
    output:
      'K8s Namespace Created (user=%ka.user.name namespace=%ka.target.name resp=%ka.response.code decision=%ka.auth.decision reason=%ka.auth.reason)',
  },
  auditSecretCreated: {
    name: 'K8s Secret Created',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Informational',
    tags: ['k8s'],
    output:
      'K8s Secret Created (user=%ka.user.name secret=%ka.target.name ns=%ka.target.namespace resp=%ka.response.code decision=%ka.auth.decision reason=%ka.auth.reason)',
  },
  auditEphemeralContainer: {
    name: 'EphemeralContainers Created',
    file: 'k8s_audit_rules_legacy.yaml',
    source: 'k8s_audit',
    priority: 'Notice',
    tags: ['k8s'],
    output:
      'Ephemeral container is created in pod (user=%ka.user.name pod=%ka.target.name ns=%ka.target.namespace ephemeral_container_name=%jevt.value[/requestObject/ephemeralContainers/0/name] ephemeral_container_image=%jevt.value[/requestObject/ephemeralContainers/0/image])',
  },
} as const satisfies Record<string, CatalogRule>;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.freeze(Object.keys(RULES) as RuleId[]);
