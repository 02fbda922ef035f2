/** House defaults for every container and pod under k8s/: non-root, read-only root, no privileges, sized. */
import type { IContainer, IPodSecurityContext, IResourceRequirements, IVolume } from 'kubernetes-models/v1';

export const resources = (cpu: string, memory: string, cpuLimit = cpu, memoryLimit = memory) =>
  ({
    requests: { cpu, memory },
    limits: { cpu: cpuLimit, memory: memoryLimit },
  }) satisfies IResourceRequirements;

/** The pod-level half: a fixed non-root uid (the image's own user) and the default seccomp profile. */
export const podSecurity = (uid: number): IPodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: 'RuntimeDefault' },
});

/** The container-level half; `uid` repeats the pod's so each container stands checked on its own. */
export const containerSecurity = (uid: number): NonNullable<IContainer['securityContext']> => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
});

/** Scratch space for a read-only root filesystem. */
export const scratch = (name: string, sizeLimit = '64Mi'): IVolume => ({ name, emptyDir: { sizeLimit } });
