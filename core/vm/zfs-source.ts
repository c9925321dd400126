import { z } from 'zod';

/** Build OpenZFS from a source tree instead of the distro package (`--zfs-source PATH|URL [--zfs-branch B]`). */
export const ZfsSourceSchema = z.strictObject({
  /** A local path or a git URL. */
  location: z.string().min(1),
  branch: z.string().min(1).optional(),
  /** The commit the location/branch resolved to when the build was planned; part of the recipe hash. */
  revision: z
    .string()
    .regex(/^[0-9a-f]{7,40}$/)
    .optional(),
});
export type ZfsSource = z.infer<typeof ZfsSourceSchema>;
