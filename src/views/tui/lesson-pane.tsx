/**
 * The lesson in view: title, `step 3/14`, the step's instruction and the latest hint. The tutor's
 * indexes are 0-based; people count from 1. Its height is bounded (`maxLines`) because the live area
 * must stay shorter than the terminal. The instruction and the latest hint are shown whole here only
 * (the transcript marks where each step began, and keeps each hint as one clipped line).
 */
import { Box, Text } from 'ink';
import type { TutorState } from '../../lessons/tutor.js';
import { clampStyled, parseInline, wrapSegs } from './inline-wrap.js';
import { StyledLines } from './styled-lines.js';
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
  const textWidth = Math.max(20, width);
  if (!lesson) {
    return (
      <Box>
        <Text wrap="truncate-end" color={tint(theme, 'gray')}>{state.curriculumComplete ? '✓ every lesson done — :lessons to pick one again' : 'no lesson running — :lessons to pick one'}</Text>
      </Box>
    );
  }
  const md = { backticks: !theme.color };
  const indent = [{ text: '  ' }];
  const hint = hints.length > 0 ? hints[hints.length - 1] : undefined;
  const instruction = step ? wrapSegs(parseInline(step.instruction, md), textWidth, indent) : [];
  const hinted = hint ? wrapSegs(parseInline(hint, md, { color: 'magenta' }), textWidth, [...indent, { text: `hint ${hints.length}: `, color: 'magenta' }], indent) : [];
  // The latest hint first, whole (the transcript keeps only a clipped line of it): a hint that lists the
  // lines to type is read while they are typed (lesson 8's second hint was cut at "Date: Sat, 28 Nov
  // 2026…", lesson 22's lost the :grade command to copy). The instruction, read in full before the
  // hint was asked for, keeps at least two lines.
  const hintBudget = hint ? Math.max(1, Math.min(hinted.length, maxLines - Math.min(2, instruction.length))) : 0;
  const hintLines = hint ? clampStyled(hinted, textWidth, hintBudget) : [];
  const instructionLines = step ? clampStyled(instruction, textWidth, Math.max(1, maxLines - hintLines.length)) : [];
  return (
    <Box flexDirection="column" marginTop={theme.present ? 1 : 0}>
      <Text wrap="truncate-end">
        <Text bold color={tint(theme, 'cyan')}>
          {`lesson ${lesson.index + 1}/${lesson.total} · ${lesson.title}`}
        </Text>
        {step ? <Text bold>{`  step ${step.index + 1}/${step.total}`}</Text> : null}
      </Text>
      {step ? (
        <StyledLines lines={[...instructionLines, ...hintLines]} />
      ) : (
        // The completion words are said in the transcript, where a relay leg or a bounce that follows
        // pushes them off a 24-row screen (a newcomer's trial): the pane keeps what to do next.
        <Text wrap="truncate-end" color={tint(theme, 'green')}>
          {state.curriculumComplete ? '  ✓ end of this lesson, and every lesson is done · :lessons lists them all' : '  ✓ end of this lesson · :next for the next one · :lessons lists them all'}
        </Text>
      )}
    </Box>
  );
}
