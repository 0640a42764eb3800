import { render } from 'preact'
import { App } from './app.js'
import { applyTheme, readTheme } from './lib/theme.js'
import './styles.css'

applyTheme(readTheme()) // before the first paint, so a chosen theme never flashes the other
render(<App />, document.getElementById('app')!)
