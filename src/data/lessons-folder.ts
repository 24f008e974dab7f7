/**
 * `--lessons DIR`: an instructor's own folder, laid out like lessons/ (NN-name.md lessons,
 * annotations.yaml, world.yaml). Each kind comes from the folder when it has it and from the shipped
 * lessons/ when it does not, so a folder of three lessons still gets the shipped world and
 * explanations, and a folder with only a world.yaml runs the shipped lessons in that world.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../user-error.js';
import { DEFAULT_ANNOTATIONS_FILE } from './annotations.js';
import { LESSONS_DIR, lessonFiles } from './shipped.js';
import { DEFAULT_WORLD_FILE } from './world.js';

export interface LessonsFolder {
  lessonsDir: string;
  annotationsFile: string;
  worldFile: string;
}

export const SHIPPED: LessonsFolder = { lessonsDir: LESSONS_DIR, annotationsFile: DEFAULT_ANNOTATIONS_FILE, worldFile: DEFAULT_WORLD_FILE };

export function lessonsFolder(dir: string | undefined, flag = '--lessons'): LessonsFolder {
  if (dir === undefined) return SHIPPED;
  const abs = path.resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    // Said below, the same way for a missing path and a file.
  }
  if (!isDir) throw new UserError(`${flag} ${dir} is not a folder (it holds NN-name.md lessons, and optionally annotations.yaml and world.yaml)`);
  const own = (name: string) => (existsSync(path.join(abs, name)) ? path.join(abs, name) : undefined);
  return {
    lessonsDir: lessonFiles(abs).length ? abs : LESSONS_DIR,
    annotationsFile: own('annotations.yaml') ?? DEFAULT_ANNOTATIONS_FILE,
    worldFile: own('world.yaml') ?? DEFAULT_WORLD_FILE,
  };
}
