import { useContext } from 'react';
import { ThemeContext, type Theme } from './theme.js';

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
