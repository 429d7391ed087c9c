/** packages.findByNvrea — turns an exact NEVRA into package ids for schedulePackageInstall. */
import { OSES } from '../../fleet/index.js';
import type { MethodDef } from '../dispatcher.js';
import { packageStruct } from '../structs.js';

export function packagesMethods(): MethodDef[] {
  return [
    {
      name: 'packages.findByNvrea',
      cache: 'static',
      overloads: [
        {
          params: ['session', 'string', 'string', 'string', 'string', 'string'],
          run: (ctx, [, name, version, release, epoch, arch]) => {
            const out = [];
            for (const os of OSES) {
              const p = ctx.fleet.packageByNevra(os, {
                name: name as string,
                version: version as string,
                release: release as string,
                epoch: (epoch as string).trim(),
                arch: arch as string,
              });
              if (p) out.push(packageStruct(p, os === 'ubuntu' ? 'ubuntu-2404-amd64-main-security' : 'rhel9-baseos-x86_64', Date.UTC(2024, 0, 1)));
            }
            return out;
          },
        },
      ],
    },
  ];
}
