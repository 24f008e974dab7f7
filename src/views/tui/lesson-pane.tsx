/**
 * The lesson in view: title, `step 3/14`, the step's instruction and the latest hint. The tutor's
 * indexes are 0-based; people count from 1. Its height is
 * bounded (`maxLines`) because the live area must stay shorter than the terminal.
 */
import { Box, Text } from 'ink';
import type { TutorState } from '../../lessons/tutor.js';
import { clampLines } from './clamp-lines.js';
import { useTheme } from './use-theme.js';
import { tint } from './theme.js';

export interface LessonPaneProps {
  state: Pick<TutorState, 'lesson' | 'step' | 'hints' | 'curriculumComplete'>;
  width: number;
  /** Lines available for instruction + hint together. */
  maxLines: number;
}

export function LessonPane({ state, width, maxLines }: LessonPaneProps) {
  const theme = useTheme();
  const { lesson, step, hints } = state;
  const textWidth = Math.max(20, width - 2);
  if (!lesson) {
    return (
      <Box>
        <Text color={tint(theme, 'gray')}>{state.curriculumComplete ? '✓ every lesson done — :lessons to pick one again' : 'no lesson running — :lessons to pick one'}</Text>
      </Box>
    );
  }
  const hint = hints.length > 0 ? hints[hints.length - 1] : undefined;
  const hintBudget = hint ? Math.max(1, Math.floor(maxLines / 2)) : 0;
  const hintLines = hint ? clampLines(`hint ${hints.length}: ${hint}`, textWidth, hintBudget) : [];
  const instructionLines = step ? clampLines(step.instruction, textWidth, Math.max(1, maxLines - hintLines.length)) : [];
  return (
    <Box flexDirection="column" marginTop={theme.present ? 1 : 0}>
      <Text wrap="truncate-end">
        <Text bold color={tint(theme, 'cyan')}>
          {`lesson ${lesson.index + 1}/${lesson.total} · ${lesson.title}`}
        </Text>
        {step ? <Text bold>{`  step ${step.index + 1}/${step.total}`}</Text> : null}
      </Text>
      {instructionLines.map((line, i) => (
        <Text key={`i${i}`} wrap="truncate-end">{`  ${line}`}</Text>
      ))}
      {hintLines.map((line, i) => (
        <Text key={`h${i}`} wrap="truncate-end" color={tint(theme, 'magenta')}>{`  ${line}`}</Text>
      ))}
    </Box>
  );
}
