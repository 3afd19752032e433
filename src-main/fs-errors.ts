/**
 * File-system failures in words: the errno code of a Node error said as a user reads it, without the
 * paths Node puts in its message (temporary names, folders outside what the caller may see). One table for the
 * service's answers (service/errors.ts), the trainer's checkpoints and the exports. A leaf module: every layer may use
 * it.
 */

const FS_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the filesystem is read-only',
  ENOENT: 'a file or folder it needs does not exist (removed meanwhile?)',
  ENOTDIR: 'a file is where a folder should be',
  EISDIR: 'a folder is where a file should be',
  EEXIST: 'a file or folder of that name is already there',
  ENOTEMPTY: 'the folder is not empty',
  ENAMETOOLONG: 'a file name is too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files; try again',
  ENFILE: 'too many open files; try again',
  EBUSY: 'a file is busy; try again',
  EIO: 'an input/output error on the disk',
  EXDEV: 'a move across filesystems is not possible',
};

/** `{message, diskFull}` for a Node file-system error (one with an errno `code`), else null. */
export function describeFsError(e: unknown): { message: string; diskFull: boolean } | null {
  const err = e as NodeJS.ErrnoException | null;
  if (!(err instanceof Error) || typeof err.code !== 'string') return null;
  const words = FS_ERRORS[err.code];
  const diskFull = err.code === 'ENOSPC' || err.code === 'EDQUOT';
  if (!words) return typeof err.syscall === 'string' ? { message: `file-system error ${err.code} (${err.syscall})`, diskFull } : null;
  return { message: `${words} (${err.code}${err.syscall ? `, ${err.syscall}` : ''})`, diskFull };
}
