/**
 * Kernel naming as the boot loaders and `uname -r` show it: RHEL's BLS entries and grubby paths,
 * Ubuntu's GRUB menu entry titles. One place, so Salt's cmd.run, grains and node_exporter agree.
 */
import type { LabSystem, PackageBuild } from './types.js';

/** `uname -r` of a kernel image build (kernel-core / linux-image-…-generic). */
export function kernelReleaseOf(image: PackageBuild): string {
  if (image.os === 'ubuntu') return image.name.replace(/^linux-image-/, '');
  return `${image.version}-${image.release}.x86_64`;
}

/** grubby's kernel path: `/boot/vmlinuz-<kernelrelease>`. */
export function vmlinuzPath(image: PackageBuild): string {
  return `/boot/vmlinuz-${kernelReleaseOf(image)}`;
}

/** The BLS entry RHEL 9 writes for a kernel: `/boot/loader/entries/<machine-id>-<kernelrelease>.conf`. */
export function blsEntryPath(sys: LabSystem, image: PackageBuild): string {
  return `/boot/loader/entries/${sys.machineId}-${kernelReleaseOf(image)}.conf`;
}

/** Ubuntu's GRUB submenu path of a kernel, the form `grub-set-default` takes and grubenv stores. */
export function grubMenuEntry(image: PackageBuild): string {
  return `Advanced options for Ubuntu>Ubuntu, with Linux ${kernelReleaseOf(image)}`;
}
